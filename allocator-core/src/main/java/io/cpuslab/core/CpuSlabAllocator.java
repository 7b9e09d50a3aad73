package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.MemoryCorruptionException;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The allocator: small sizes through the per-CPU front end and its caches, large ones straight from
 * the page heap. Built by {@link io.cpuslab.CpuSlab}.
 *
 * <pre>{@code
 * OffHeapAllocator alloc = CpuSlabAllocator.create(config);
 * }</pre>
 *
 * <h2>The fast path</h2>
 * With a native front end (rseq), {@code malloc} and {@code free} are each one native call that does the
 * whole hit path ({@link NativeFastPath}): {@link #malloc} and {@link #free} are the few lines that make
 * it and, when it answers 0, go to the Java slow path, which decides everything else (refill, overflow,
 * large blocks, bad input, closed) exactly as the other front ends' path does. Whether an allocator
 * takes the native path is decided once, at construction: not in checked mode (every call validates its
 * block), and {@code malloc} not with guard sampling (which must see every call). Then
 * {@link #fastMalloc} or {@link #fastFree} is 0 and every call goes through the front end's
 * {@link SlabFrontEnd#pop} and {@link SlabFrontEnd#push}.
 *
 * <h2>Closing safely</h2>
 * All Java-side access to allocator memory (slab headers, zero fills, realloc copies) goes through
 * segments scoped to one shared {@link Arena}. {@link #close()} marks the allocator closed, stops every
 * slab for good, then closes that arena: the JDK's handshake waits out accesses in flight and makes later
 * ones throw {@link IllegalStateException}. Only then is memory unmapped, so a call racing with close
 * either completes or throws; it never touches unmapped memory.
 *
 * <h2>Observability</h2>
 * An allocator has a name (its own, or a number) under which it shows in JMX ({@link AllocatorMXBeanSupport})
 * and in JDK Flight Recorder ({@link AllocatorEvents}): both start when construction has succeeded and stop
 * first thing in {@link #close()}. Neither adds anything to {@link #malloc} or {@link #free}.
 */
public final class CpuSlabAllocator implements OffHeapAllocator {
    private static final System.Logger LOG = System.getLogger("io.cpuslab");
    /** Every block's alignment: the smallest class is 8 bytes, and spans start on a page. */
    private static final long MIN_ALIGNMENT = 8;
    /** The alignment of every block of 16 bytes or more: all larger classes are multiples of 16. */
    private static final long MALLOC_ALIGNMENT = 16;
    /**
     * Most blocks per native bulk call: a critical downcall holds up safepoints (and so the GC) while it
     * runs, a few nanoseconds per block, so a call stays within microseconds.
     */
    private static final int BULK_CHUNK = 1024;
    /** No request can be served beyond this (the page map covers 2^48 bytes of address space). */
    private static final long MAX_REQUEST = 1L << 46;
    /** The last number given to an allocator made without a name. */
    private static final AtomicLong NUMBERS = new AtomicLong();

    private final String name;
    private final OsMemory os;
    private final Arena scope = Arena.ofShared();
    private final PageMap pageMap = new PageMap();
    private final PageHeap pageHeap;
    private final HugePageSupport hugePages;
    /** The native fast path's descriptor for malloc, or 0 when malloc takes the Java path (see above). */
    private final long fastMalloc;
    /** The native fast path's descriptor for free and freeSized, or 0. */
    private final long fastFree;
    private final CentralFreeList[] central = new CentralFreeList[SizeClasses.COUNT];
    private final TransferCache[] transfer = new TransferCache[SizeClasses.COUNT];
    private final long slabAddress;
    private final long slabBytes;
    private final SlabLayout layout;
    private final SlabFrontEnd frontEnd;
    private final CpuCache cpuCache;
    private final boolean checked;
    /** Checked mode: the canary bytes after each block; 0 otherwise, so unchecked requests pay no branch. */
    private final long canaryBytes;
    /** Sampled guard pages; null when off, so malloc pays one predictable branch. */
    private final GuardedBlocks guards;
    /** Sized frees look the block up (checked mode, or guarded blocks that a size cannot tell apart). */
    private final boolean validateSizedFrees;
    private final boolean global;
    private final LongAdder largeBytes = new LongAdder();
    /** Null unless the configuration asks for background work. */
    private final BackgroundMaintenance maintenance;
    /** The allocator's MXBean; null when JMX is off or refused it. */
    private final AllocatorMXBeanSupport mxBean;
    private volatile boolean closed;

    private CpuSlabAllocator(AllocatorConfig config, FrontEndSelection.Choice choice, boolean global) {
        this.os = config.osMemory() != null ? config.osMemory() : OsMemory.forThisPlatform();
        this.checked = config.checked();
        this.canaryBytes = checked ? BlockChecks.CANARY_BYTES : 0;
        this.global = global;
        this.name = config.name() != null ? config.name() : global ? "global" : String.valueOf(NUMBERS.incrementAndGet());
        // The JFR events of this allocator's slow operations, which its page heap and caches start.
        AllocatorEvents events = new AllocatorEvents(name);
        int slabs = choice.provider().slabCount(config);
        this.slabBytes = (long) slabs << SlabLayout.SHIFT;
        this.slabAddress = os.map(slabBytes, SlabLayout.SLAB_BYTES);
        PageHeap heap = null;
        SlabFrontEnd created = null;
        try {
            // Checked mode validates every block in Java: it never takes the native fast path, so needs no mirror.
            NativePageMap classes = choice.provider().nativeFastPath() != null && NativeFastPath.available() && !checked
                    ? new NativePageMap(os) : null;
            this.hugePages = HugePageSupport.decide(config.hugePages(), os);
            heap = new PageHeap(os, pageMap, classes, config.memoryLimit(), config.softMemoryLimit(), checked, hugePages.inUse(),
                    events);
            this.pageHeap = heap;
            for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
                central[sc] = new CentralFreeList(sc, pageHeap, pageMap);
                transfer[sc] = new TransferCache(sc, central[sc]);
            }
            this.layout = new SlabLayout(view(slabAddress, slabBytes), slabs);
            created = choice.provider().create(layout, config, choice.reason(), classes);
            this.frontEnd = created;
            this.guards = config.guardSampleRate() > 0 && os.canProtect()
                    ? new GuardedBlocks(pageHeap, os, config.guardSampleRate()) : null;
            this.fastFree = classes == null ? 0 : frontEnd.nativeDescriptor();
            this.fastMalloc = guards == null ? fastFree : 0;
            this.validateSizedFrees = checked || guards != null;
            this.cpuCache = new CpuCache(frontEnd, layout, transfer, os, config.perCpuCacheBytes(), events);
            this.maintenance = config.maintained() ? new BackgroundMaintenance(new Maintenance(cpuCache, transfer, pageHeap,
                    config.releaseRate(), config.maintenancePeriodMillis(), config.idleDrainMillis()),
                    config.maintenancePeriodMillis(), Objects.requireNonNullElse(config.maintenanceClock(), MaintenanceClock.SYSTEM)) : null;
        } catch (RuntimeException | Error e) {
            // Whatever was made goes again: a front end holds process-wide state (overlay mode's one slot).
            if (created != null) {
                try {
                    created.close();
                } catch (RuntimeException | Error suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            os.unmap(slabAddress, slabBytes);
            if (heap != null) {
                heap.close();
            }
            scope.close();
            throw e;
        }
        LOG.log(System.Logger.Level.DEBUG, "cpuslab: {0}: {1}", name, frontEnd.info()); // quiet unless asked: frontEnd() has it
        // Last, once nothing can fail any more: a JMX client or a JFR hook may call stats() from now on.
        AllocatorEvents.watch(this);
        this.mxBean = config.jmx() ? AllocatorMXBeanSupport.register(this, name) : null;
    }

    /** A new allocator; throws {@link IllegalStateException} if the requested front end cannot run. */
    public static OffHeapAllocator create(AllocatorConfig config) {
        return new CpuSlabAllocator(config, FrontEndSelection.select(config), false);
    }

    /** The process-wide instance behind {@link io.cpuslab.CpuSlab#global()}; it refuses to close. */
    public static OffHeapAllocator createGlobal(AllocatorConfig config) {
        return new CpuSlabAllocator(config, FrontEndSelection.select(config), true);
    }

    /** The name in the allocator's MXBean's object name and in its JFR events. */
    String name() {
        return name;
    }

    // ---- allocation ----------------------------------------------------------------------------

    @Override
    public long malloc(long size) {
        if (fastMalloc != 0) {
            long address = NativeFastPath.malloc(fastMalloc, size);
            if (address != 0) {
                return address;
            }
        }
        return mallocSlow(size);
    }

    /** Everything the native fast path does not serve, and every malloc of an allocator without it. */
    private long mallocSlow(long size) {
        if (size >= 0 && size <= SizeClasses.MAX_SIZE - canaryBytes) {
            if (guards != null && guards.sample()) {
                long guarded = allocateGuarded(size);
                if (guarded != 0) {
                    return guarded;
                }
            }
            return allocateSmall(SizeClasses.classFor(size + canaryBytes), size);
        }
        return allocateLarge(checkSize(size), 1);
    }

    /** A block ending right at a PROT_NONE page, or 0 when none can be had now. */
    private long allocateGuarded(long size) {
        checkOpen();
        Span span = guards.allocate(size);
        if (span == null) {
            return 0;
        }
        largeBytes.add(span.bytes());
        return span.guardedBlock;
    }

    @Override
    public long mallocAligned(long size, long alignment) {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        if (alignment <= MALLOC_ALIGNMENT && (alignment <= MIN_ALIGNMENT || size >= MALLOC_ALIGNMENT)) {
            return malloc(size); // every block is that aligned anyway
        }
        long need = checkSize(size) + canaryBytes;
        if (need <= SizeClasses.MAX_SIZE && alignment <= SizeClasses.PAGE_SIZE) {
            // Spans start on a page, so objects of a class whose size is a multiple of the alignment are aligned.
            for (int sc = SizeClasses.classFor(need); sc < SizeClasses.COUNT; sc++) {
                if (SizeClasses.size(sc) % alignment == 0) {
                    return allocateSmall(sc, size);
                }
            }
        }
        return allocateLarge(size, alignment);
    }

    @Override
    public long mallocZeroed(long size) {
        long address = malloc(size);
        zero(address, size);
        return address;
    }

    /** A block of class {@code sc}; {@code size} is what was asked (checked mode records it). */
    private long allocateSmall(int sc, long size) {
        long address;
        try {
            address = frontEnd.pop(sc);
            if (address == 0) {
                checkOpen();
                address = cpuCache.allocate(sc);
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        return checked ? handOutChecked(address, size) : address;
    }

    /**
     * Checked mode, before a small block reaches the caller: marks it live, verifies the poison of a block
     * freed before (a write after free is reported, and the block stays out of use for good), records the
     * size asked and arms the canary right after it.
     */
    private long handOutChecked(long address, long size) {
        Span span = pageMap.get(address);
        int index = objectIndex(span, address);
        if (!span.markLive(index)) {
            throw new IllegalStateException("cpuslab bug: block 0x" + Long.toHexString(address) + " handed out twice");
        }
        try {
            MemorySegment block = view(address, SizeClasses.size(span.sizeClass));
            long damaged = span.isPoisoned(index) ? BlockChecks.firstUnpoisoned(block) : -1;
            if (damaged >= 0) {
                throw new MemoryCorruptionException("write after free (found when handing the block out again; it is"
                        + " kept out of use)", address, span.sizeClass, block.byteSize(), damaged);
            }
            span.requested[index] = size;
            BlockChecks.armCanary(block, size, address);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        return address;
    }

    private long allocateLarge(long size, long alignment) {
        checkOpen();
        long pages = SizeClasses.pagesFor(Math.max(size + canaryBytes, 1));
        Span span = pageHeap.allocateAligned(pages, Math.max(1, alignment >>> SizeClasses.PAGE_SHIFT), 0);
        largeBytes.add(span.bytes());
        if (checked) {
            span.requested[0] = size;
            armCanary(span.start(), size);
        }
        return span.start();
    }

    private static long checkSize(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0: " + size);
        }
        if (size > MAX_REQUEST) {
            throw new OutOfMemoryError("cpuslab: cannot allocate " + size + " bytes: more than the "
                    + Bytes.format(MAX_REQUEST) + " any request can have");
        }
        return size;
    }

    // ---- free ------------------------------------------------------------------------------------

    @Override
    public void free(long address) {
        if (fastFree == 0 || !NativeFastPath.free(fastFree, address)) {
            freeSlow(address);
        }
    }

    /** Everything the native fast path does not serve: address 0, large blocks, full caches, bad input. */
    private void freeSlow(long address) {
        if (address == 0) {
            return;
        }
        release(owned(address, "free"), address);
    }

    /** Gives back the block at {@code address}, already validated as the start of a block in {@code span}. */
    private void release(Span span, long address) {
        if (span.sizeClass == 0) {
            if (!span.retire()) {
                throw new IllegalArgumentException("free of 0x" + Long.toHexString(address) + " (size class 0, "
                        + span.bytes() + " bytes): double free");
            }
            if (span.guardedBlock != 0) {
                guards.release(span);
            }
            largeBytes.add(-span.bytes());
            pageHeap.free(span);
            return;
        }
        if (checked) {
            int index = objectIndex(span, address);
            if (!span.markFreed(index)) {
                throw new IllegalArgumentException("free of 0x" + Long.toHexString(address) + " (size class "
                        + span.sizeClass + ", " + SizeClasses.size(span.sizeClass) + " bytes): double free");
            }
            // Poisoned before the block can reach any cache, so whoever takes it next sees the poison.
            poison(address, span.sizeClass);
            span.markPoisoned(index);
        }
        deallocateSmall(span.sizeClass, address);
    }

    @Override
    public void freeSized(long address, long size) {
        if (fastFree != 0 && !validateSizedFrees && size >= 0 && size <= SizeClasses.MAX_SIZE) {
            free(address); // the native page map files the block: the size is not needed
            return;
        }
        if (address == 0) {
            return;
        }
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0: " + size);
        }
        if (validateSizedFrees || size > SizeClasses.MAX_SIZE) {
            Span span = owned(address, "freeSized");
            long usable = usable(span, address);
            if (size > usable || (span.guardedBlock == 0 && classFor(size) != span.sizeClass)) {
                throw new IllegalArgumentException("freeSized of 0x" + Long.toHexString(address) + ": size " + size
                        + " does not fit the block (size class " + span.sizeClass + ", " + usable + " usable bytes;"
                        + " blocks from mallocAligned go back through free)");
            }
            release(span, address);
            return;
        }
        deallocateSmall(SizeClasses.classFor(size), address);
    }

    private void deallocateSmall(int sc, long address) {
        try {
            if (!frontEnd.push(sc, address)) {
                checkOpen();
                cpuCache.deallocate(sc, address);
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    @Override
    public void free(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException("not a native segment: " + segment);
        }
        free(segment.address());
    }

    @Override
    public void mallocBulk(long size, long[] out, int offset, int count) {
        Objects.checkFromIndexSize(offset, count, out.length);
        int done = 0;
        try {
            while (done < count) {
                int got = fastMalloc == 0 ? 0
                        : NativeFastPath.mallocBulk(fastMalloc, size, out, offset + done, Math.min(count - done, BULK_CHUNK));
                if (got == 0) {
                    out[offset + done] = mallocSlow(size); // refills the cache, or says why not
                    got = 1;
                }
                done += got;
            }
        } catch (RuntimeException | Error e) {
            try {
                freeBulk(out, offset, done);
            } catch (RuntimeException | Error suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    @Override
    public void freeBulk(long[] addresses, int offset, int count) {
        Objects.checkFromIndexSize(offset, count, addresses.length);
        int end = offset + count;
        int i = offset;
        while (i < end) {
            int freed = fastFree == 0 ? 0 : NativeFastPath.freeBulk(fastFree, addresses, i, Math.min(end - i, BULK_CHUNK));
            if (freed > 0) {
                i += freed;
                continue;
            }
            try {
                freeSlow(addresses[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("freeBulk: element " + i + " (" + (i - offset) + " blocks before it were freed,"
                        + " it and the " + (end - i - 1) + " after it were not): " + e.getMessage(), e);
            }
            i++;
        }
    }

    /**
     * The in-use span of a block start handed out by this allocator, or {@link IllegalArgumentException}
     * saying what is wrong with the address. Changes nothing.
     */
    private Span owned(long address, String call) {
        Span span = pageMap.get(address);
        if (span == null || span.state() != Span.IN_USE) {
            throw new IllegalArgumentException(call + " of 0x" + Long.toHexString(address)
                    + ": not a block this allocator handed out (foreign address, or already freed)");
        }
        if (span.sizeClass == 0 ? address != span.blockStart() : objectIndex(span, address) < 0) {
            throw new IllegalArgumentException(call + " of 0x" + Long.toHexString(address) + ": interior pointer into a block"
                    + " (size class " + span.sizeClass + ", " + (span.sizeClass == 0 ? span.bytes() : SizeClasses.size(span.sizeClass))
                    + " bytes)");
        }
        if (checked) {
            verifyChecked(span, address, call);
        }
        return span;
    }

    /** Checked mode: the block is allocated and its canary intact, or the call is rejected. */
    private void verifyChecked(Span span, long address, String call) {
        if (span.guardedBlock != 0) {
            return; // the guard page catches overruns as they happen
        }
        if (span.sizeClass != 0 && !span.isLive(objectIndex(span, address))) {
            throw new IllegalArgumentException(call + " of 0x" + Long.toHexString(address) + " (size class " + span.sizeClass
                    + ", " + SizeClasses.size(span.sizeClass) + " bytes): block is not allocated (already freed)");
        }
        long usable = usable(span, address);
        try {
            long damaged = BlockChecks.brokenCanary(view(address, usable + canaryBytes), usable, address);
            if (damaged >= 0) {
                throw new MemoryCorruptionException(call + " found an overrun past the usable size of " + usable
                        + " bytes (the block stays allocated)", address, span.sizeClass, usable + canaryBytes, damaged);
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    private void armCanary(long address, long size) {
        try {
            BlockChecks.armCanary(view(address, size + canaryBytes), size, address);
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    private void poison(long address, int sizeClass) {
        try {
            BlockChecks.poison(view(address, SizeClasses.size(sizeClass)));
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
    }

    /** The size class malloc picks for {@code size} in this mode; 0 for a large block. */
    private int classFor(long size) {
        return size <= SizeClasses.MAX_SIZE - canaryBytes ? SizeClasses.classFor(size + canaryBytes) : 0;
    }

    /** Index of the object starting at {@code address} in a small span, or -1 if no object starts there. */
    private static int objectIndex(Span span, long address) {
        return SizeClasses.objectIndex(span.sizeClass, address - span.start());
    }

    /** What the caller may use of the block at {@code address}: in checked mode exactly what was asked. */
    private long usable(Span span, long address) {
        if (span.guardedBlock != 0) {
            return GuardedBlocks.usable(span);
        }
        if (checked) {
            return span.requested[span.sizeClass == 0 ? 0 : objectIndex(span, address)];
        }
        return span.sizeClass == 0 ? span.bytes() : SizeClasses.size(span.sizeClass);
    }

    // ---- realloc, usable size, segments --------------------------------------------------------------

    @Override
    public long realloc(long address, long newSize) {
        if (address == 0) {
            return malloc(newSize);
        }
        checkSize(newSize);
        Span span = owned(address, "realloc");
        long usable = usable(span, address);
        // In place only within the class malloc would pick, so freeSized(address, newSize) stays right.
        if (newSize <= usable && classFor(newSize) == span.sizeClass && (span.sizeClass != 0 || newSize >= usable / 2)) {
            if (checked) { // the block now ends earlier: so does what is checked
                span.requested[span.sizeClass == 0 ? 0 : objectIndex(span, address)] = newSize;
                armCanary(address, newSize);
            }
            return address;
        }
        long fresh = malloc(newSize);
        long bytes = Math.min(usable, newSize);
        if (bytes > 0) {
            MemorySegment.copy(view(address, bytes), 0, view(fresh, bytes), 0, bytes);
        }
        release(span, address);
        return fresh;
    }

    @Override
    public long usableSize(long address) {
        return usable(owned(address, "usableSize"), address);
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return MemorySegment.ofAddress(mallocAligned(byteSize, byteAlignment)).reinterpret(byteSize);
    }

    @Override
    public Arena newArena() {
        checkOpen();
        return new AllocatorArena(this, Arena.ofConfined());
    }

    @Override
    public Arena newSharedArena() {
        checkOpen();
        return new AllocatorArena(this, Arena.ofShared());
    }

    void zero(long address, long bytes) {
        if (bytes > 0) {
            try {
                view(address, bytes).fill((byte) 0);
            } catch (IllegalStateException e) {
                throw closedOr(e);
            }
        }
    }

    /** Allocator memory as a segment of the allocator's scope: accesses after close throw instead of faulting. */
    private MemorySegment view(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes, scope, null);
    }

    // ---- stats, release, close -------------------------------------------------------------------

    @Override
    public AllocatorStats stats() {
        checkOpen();
        PageHeap.Snapshot heap = pageHeap.snapshot();
        long cpu = 0, transferred = 0, centralFree = 0, overhead = 0, smallApplication = 0;
        List<AllocatorStats.ClassStats> classes = new ArrayList<>();
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            int size = SizeClasses.size(sc);
            TransferCache.Snapshot t = transfer[sc].snapshot();
            CentralFreeList.Snapshot c = central[sc].snapshot();
            long cpuObjects = 0;
            for (int slab = 0; slab < cpuCache.slabs(); slab++) {
                cpuObjects += cpuCache.objects(slab, sc);
            }
            // Three snapshots under three locks: while objects move, the difference can dip below the
            // truth, even below 0. It is exact when the allocator is quiet; it is never shown negative.
            long application = Math.max(0, c.objectsOut() - t.objects() - cpuObjects);
            cpu += cpuObjects * size;
            transferred += (long) t.objects() * size;
            centralFree += c.freeObjects() * size;
            overhead += c.spans() * ((SizeClasses.pages(sc) << SizeClasses.PAGE_SHIFT) - (long) SizeClasses.objectsPerSpan(sc) * size);
            smallApplication += application * size;
            if (c.spans() > 0 || t.objects() > 0 || cpuObjects > 0) {
                classes.add(new AllocatorStats.ClassStats(sc, size, application, cpuObjects, t.objects(), t.capacity(),
                        c.freeObjects(), c.spans(), t.insertHits(), t.insertMisses(), t.removeHits(), t.removeMisses()));
            }
        }
        List<AllocatorStats.SlabStats> slabs = new ArrayList<>();
        for (int slab = 0; slab < cpuCache.slabs(); slab++) {
            long bytes = 0;
            for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
                bytes += cpuCache.objects(slab, sc) * SizeClasses.size(sc);
            }
            slabs.add(new AllocatorStats.SlabStats(slab, bytes, cpuCache.capacityBytes(slab), cpuCache.underflows(slab),
                    cpuCache.overflows(slab), cpuCache.drains(slab)));
        }
        long metadata = slabBytes + heap.nativePageMapBytes();
        return new AllocatorStats(smallApplication + largeBytes.sum(), cpu, transferred, centralFree, overhead,
                heap.freeBytes(), heap.releasedBytes(), metadata, heap.mappedBytes() + metadata,
                heap.releasedTotalBytes(), heap.pageMapHeapBytes(), List.copyOf(classes), List.copyOf(slabs),
                new AllocatorStats.HugePageStats(hugePages.inUse(), hugePages.reason(), heap.fullHugePages(),
                        heap.partialHugePages(), heap.freeHugePages(), heap.brokenHugePages(), heap.brokenTotal()));
    }

    @Override
    public String statsReport() {
        return StatsReport.format(stats(), frontEnd.info(), os.description(), transparentHugePageBytes());
    }

    @Override
    public long transparentHugePageBytes() {
        checkOpen();
        return HugePageSupport.anonHugePageBytes(pageHeap.regions());
    }

    @Override
    public FrontEndInfo frontEnd() {
        checkOpen();
        return frontEnd.info();
    }

    /**
     * Under the allocator's monitor, like {@link #close()}: draining hands slab pages back with a raw
     * {@code madvise}, which must never run after close has unmapped them.
     */
    @Override
    public synchronized void releaseMemory() {
        checkOpen();
        cpuCache.drainAll(AllocatorEvents.Reason.RELEASE_MEMORY);
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            transfer[sc].flush();
        }
        pageHeap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
    }

    @Override
    public void close() {
        if (global) {
            throw new UnsupportedOperationException("the global cpuslab allocator cannot be closed");
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            AllocatorEvents.unwatch(this);
            if (mxBean != null) {
                mxBean.unregister();
            }
            if (maintenance != null) {
                maintenance.stop(); // before anything is unmapped: it drains slabs and releases pages
            }
            frontEnd.close(); // fast paths now miss without touching slab memory and find the allocator closed
            scope.close();
            pageHeap.close();
            os.unmap(slabAddress, slabBytes);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cpuslab allocator is closed");
        }
    }

    /** After close, accesses to allocator memory fail with the JDK's "Already closed": say it in our words. */
    private RuntimeException closedOr(IllegalStateException e) {
        return closed && !(e instanceof MemoryCorruptionException) ? new IllegalStateException("cpuslab allocator is closed", e) : e;
    }
}
