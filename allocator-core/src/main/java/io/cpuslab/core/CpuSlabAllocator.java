package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * <h2>What is elsewhere</h2>
 * This class is the dispatcher: each call's fast path, then its slow path through the caches and the
 * page heap. Around it, one class each: what the allocator owns and its life cycle ({@link AllocatorParts}),
 * checked mode ({@link CheckedBlocks}, behind {@link BlockPolicy}: the slow path calls the policy at each
 * step of a block and never tests for checked mode), guard sampling ({@link GuardedBlocks}) and
 * statistics ({@link StatsCollector}).
 *
 * <h2>Closing safely</h2>
 * What the allocator owns is made, and taken down on {@link #close()}, by {@link AllocatorParts}, whose
 * comment gives the order: all Java-side access to allocator memory goes through segments scoped to one
 * shared {@link Arena} that is closed before any memory is unmapped, so a call racing with close either
 * completes or throws {@link IllegalStateException}; it never touches unmapped memory.
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
    /** No request can be served beyond this: a quarter of the address space the page maps cover. */
    private static final long MAX_REQUEST = 1L << (PageMap.ADDRESS_BITS - 2);
    /** The last number given to an allocator made without a name. */
    private static final AtomicLong NUMBERS = new AtomicLong();

    private final String name;
    private final boolean global;
    /** What the allocator owns, and its life cycle; the fields below are the parts its calls touch. */
    private final AllocatorParts parts;
    private final PageMap pageMap;
    private final PageHeap pageHeap;
    /** The native fast path's descriptor for malloc, or 0 when malloc takes the Java path (see above). */
    private final long fastMalloc;
    /** The native fast path's descriptor for free and freeSized, or 0. */
    private final long fastFree;
    /** Which of the fast path's native entries the descriptor is for. */
    private final NativeFastPath.Flavour flavour;
    private final SlabFrontEnd frontEnd;
    private final CpuCache cpuCache;
    /** Checked mode, or nothing: called at each step of a block, never tested (see {@link BlockPolicy}). */
    private final BlockPolicy blocks;
    /** Checked mode: the canary bytes after each block; 0 otherwise, so unchecked requests pay no branch. */
    private final long canaryBytes;
    /** Sampled guard pages; null when off, so malloc pays one predictable branch. */
    private final GuardedBlocks guards;
    /** Sized frees look the block up (checked mode, or guarded blocks that a size cannot tell apart). */
    private final boolean validateSizedFrees;
    private final LongAdder largeBytes = new LongAdder();

    /** Package-private for tests that bring their own front end; everyone else goes through {@link #create}. */
    CpuSlabAllocator(AllocatorConfig config, FrontEndSelection.Choice choice, boolean global) {
        this.global = global;
        this.name = config.name() != null ? config.name() : global ? "global" : String.valueOf(NUMBERS.incrementAndGet());
        this.parts = AllocatorParts.open(config, choice, name);
        try {
            this.pageMap = parts.pageMap;
            this.pageHeap = parts.pageHeap;
            this.frontEnd = parts.frontEnd;
            this.cpuCache = parts.cpuCache;
            this.blocks = parts.blocks;
            this.canaryBytes = blocks.canaryBytes;
            this.guards = parts.guards;
            this.fastFree = parts.nativeDescriptor;
            this.flavour = parts.flavour;
            this.fastMalloc = guards == null ? fastFree : 0;
            this.validateSizedFrees = config.checked() || guards != null;
            LOG.log(System.Logger.Level.DEBUG, "cpuslab: {0}: {1}", name, frontEnd.info()); // quiet unless asked: frontEnd() has it
            // Last: a JMX client or a JFR hook may call stats() from now on.
            parts.publish(this, config.jmx());
        } catch (RuntimeException | Error e) {
            // The caller never gets this allocator, so nothing else would close its parts (mapped memory, a
            // running maintenance thread, a front end's process-wide state such as overlay mode's one slot).
            new Steps(e).run(parts::close);
            throw e;
        }
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
            long address = NativeFastPath.malloc(flavour, fastMalloc, size);
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
                address = switch (cpuCache.allocate(sc)) {
                    case CpuCache.Refill.Block(long block) -> block;
                    case NoMemory noMemory -> throw noMemory.error(size);
                };
            }
        } catch (IllegalStateException e) {
            throw closedOr(e);
        }
        return blocks.handOut(address, size);
    }

    private long allocateLarge(long size, long alignment) {
        checkOpen();
        long pages = SizeClasses.pagesFor(Math.max(size + canaryBytes, 1));
        Span span = switch (pageHeap.allocateAligned(pages, Math.max(1, alignment >>> SizeClasses.PAGE_SHIFT), 0)) {
            case Span carved -> carved;
            case NoMemory noMemory -> throw noMemory.error(size);
        };
        largeBytes.add(span.bytes());
        blocks.handOutLarge(span, size);
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
        if (fastFree == 0 || !NativeFastPath.free(flavour, fastFree, address)) {
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
        blocks.takeBack(span, address);
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
        if (span.sizeClass == 0 ? address != span.blockStart() : span.objectIndex(address) < 0) {
            throw new IllegalArgumentException(call + " of 0x" + Long.toHexString(address) + ": interior pointer into a block"
                    + " (size class " + span.sizeClass + ", " + (span.sizeClass == 0 ? span.bytes() : SizeClasses.size(span.sizeClass))
                    + " bytes)");
        }
        if (span.guardedBlock == 0) {
            blocks.verify(span, address, call);
        }
        return span;
    }

    /** The size class malloc picks for {@code size} in this mode; 0 for a large block. */
    private int classFor(long size) {
        return size <= SizeClasses.MAX_SIZE - canaryBytes ? SizeClasses.classFor(size + canaryBytes) : 0;
    }

    /** What the caller may use of the block at {@code address}: in checked mode exactly what was asked. */
    private long usable(Span span, long address) {
        if (span.guardedBlock != 0) {
            return GuardedBlocks.usable(span);
        }
        return blocks.usable(span, address);
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
            if (span.guardedBlock == 0) {
                blocks.resize(span, address, newSize);
            }
            return address;
        }
        long fresh = malloc(newSize);
        long bytes = Math.min(usable, newSize);
        if (bytes > 0) {
            MemorySegment.copy(parts.view(address, bytes), 0, parts.view(fresh, bytes), 0, bytes);
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
                parts.view(address, bytes).fill((byte) 0);
            } catch (IllegalStateException e) {
                throw closedOr(e);
            }
        }
    }

    // ---- stats, release, close -------------------------------------------------------------------

    @Override
    public AllocatorStats stats() {
        checkOpen();
        return StatsCollector.collect(parts, largeBytes);
    }

    @Override
    public String statsReport() {
        return StatsReport.format(stats(), frontEnd.info(), parts.os.description(), transparentHugePageBytes());
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

    @Override
    public void releaseMemory() {
        parts.releaseMemory();
    }

    /** Takes the allocator down in the order {@link AllocatorParts} gives; a second close does nothing. */
    @Override
    public void close() {
        if (global) {
            throw new UnsupportedOperationException("the global cpuslab allocator cannot be closed");
        }
        parts.close();
    }

    private void checkOpen() {
        parts.checkOpen();
    }

    private RuntimeException closedOr(IllegalStateException e) {
        return parts.closedOr(e);
    }
}
