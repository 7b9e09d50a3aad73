package io.cpuslab.core;

import io.cpuslab.MemoryCorruptionException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Everything one allocator owns, from its opening to its close, as TCMalloc's {@code Static} holds the
 * parts of its one allocator: the OS memory, the page heap and page map, the central free lists and
 * transfer caches, the slabs and the front end over them, the per-CPU caches, the block policy (checked
 * mode or not), and the optional guard sampling and maintenance thread. {@link CpuSlabAllocator} is the dispatcher over these parts; this
 * class is its life cycle: it makes them, knows whether they are still open, and takes them down.
 *
 * <pre>{@code
 * AllocatorParts parts = AllocatorParts.open(config, choice, name);   // all made, or none left behind
 * parts.publish(allocator, config.jmx());                             // JFR and JMX may call stats() now
 * ...
 * parts.close();                                                      // in the order below
 * }</pre>
 *
 * <h2>Closing safely</h2>
 * All Java-side access to allocator memory (slab headers, zero fills, realloc copies, checked mode's
 * canaries and poison) goes through {@link #view}, segments scoped to one shared {@link Arena}.
 * {@link #close()} runs under this object's monitor, in this order:
 * <ol>
 *   <li>mark the allocator closed, take it out of JFR's periodic statistics and unregister its MXBean:
 *       a JMX client or the JFR thread calling {@code stats()} from now on gets
 *       {@link IllegalStateException};</li>
 *   <li>stop the maintenance thread, which drains slabs and releases pages, before anything is
 *       unmapped;</li>
 *   <li>stop every slab for good ({@link SlabFrontEnd#close()}): fast paths now miss without touching
 *       slab memory and find the allocator closed;</li>
 *   <li>close the arena: the JDK's handshake waits out Java accesses in flight and makes later ones
 *       throw {@link IllegalStateException};</li>
 *   <li>close the page heap (it unmaps the native page map, which no front end reads any more) and unmap
 *       the slabs.</li>
 * </ol>
 * Only then is memory unmapped, so a call racing with close either completes or throws; it never
 * touches unmapped memory. {@link #releaseMemory()} runs under the same monitor, since draining hands
 * slab pages back with a raw {@code madvise} that must never run after close has unmapped them.
 *
 * <p>A step that fails does not end close: the later ones still run, and close throws the first failure
 * with the later ones suppressed in it. But steps 2 to 4 are what make unmapping safe, so if one of them
 * failed, step 5 is left out and the memory stays mapped for good (see {@link #close()}).
 */
final class AllocatorParts {
    final OsMemory os;
    private final Arena scope = Arena.ofShared();
    final PageMap pageMap = new PageMap();
    final PageHeap pageHeap;
    final HugePageSupport hugePages;
    final CentralFreeList[] central = new CentralFreeList[SizeClasses.COUNT];
    final TransferCache[] transfer = new TransferCache[SizeClasses.COUNT];
    private final long slabAddress;
    final long slabBytes;
    final SlabFrontEnd frontEnd;
    /**
     * The front end's native descriptor when this allocator keeps the native page map its one-call fast
     * path reads ({@link NativeFastPath}); 0 when it has none.
     */
    final long nativeDescriptor;
    /** Which of the fast path's native entries {@link #nativeDescriptor} is for; null without one. */
    final NativeFastPath.Flavour flavour;
    final CpuCache cpuCache;
    /** Sampled guard pages; null when off. */
    final GuardedBlocks guards;
    /** Checked mode's validation of every block, or {@link BlockPolicy#UNCHECKED}. */
    final BlockPolicy blocks;
    /** Null unless the configuration asks for background work. */
    private final BackgroundMaintenance maintenance;
    /** Set by {@link #publish}, before the allocator is handed to anyone; read by close under the monitor. */
    private CpuSlabAllocator published;
    /** The allocator's MXBean; null when JMX is off or refused it. Set by {@link #publish}. */
    private AllocatorMXBeanSupport mxBean;
    private volatile boolean closed;

    private AllocatorParts(AllocatorConfig config, FrontEndSelection.Choice choice, String name) {
        this.os = config.osMemory() != null ? config.osMemory() : OsMemory.forThisPlatform();
        boolean checked = config.checked();
        // The JFR events of this allocator's slow operations, which its page heap and caches start.
        AllocatorEvents events = new AllocatorEvents(name);
        int slabs = choice.provider().slabCount(config);
        this.slabBytes = (long) slabs << SlabLayout.SHIFT;
        this.slabAddress = os.map(slabBytes, SlabLayout.SLAB_BYTES);
        NativePageMap classes = null;
        PageHeap heap = null;
        SlabFrontEnd created = null;
        try {
            // Checked mode validates every block in Java: it never takes the native fast path, so needs no mirror.
            classes = choice.provider().nativeFastPath() != null && NativeFastPath.available() && !checked
                    ? new NativePageMap(os) : null;
            this.hugePages = HugePageSupport.decide(config.hugePages(), os);
            heap = new PageHeap(os, pageMap, classes, config.memoryLimit(), config.softMemoryLimit(), checked, hugePages.inUse(),
                    events);
            this.pageHeap = heap;
            for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
                central[sc] = new CentralFreeList(sc, pageHeap, pageMap);
                transfer[sc] = new TransferCache(sc, central[sc]);
            }
            SlabLayout layout = new SlabLayout(view(slabAddress, slabBytes), slabs);
            created = choice.provider().create(layout, config, choice.reason(), classes);
            this.frontEnd = created;
            this.guards = config.guardSampleRate() > 0 && os.canProtect()
                    ? new GuardedBlocks(pageHeap, os, config.guardSampleRate()) : null;
            this.blocks = checked ? new CheckedBlocks(this) : BlockPolicy.UNCHECKED;
            this.nativeDescriptor = classes == null ? 0 : frontEnd.nativeDescriptor();
            this.flavour = frontEnd.nativeFlavour();
            if (nativeDescriptor != 0 && flavour == null) {
                throw new IllegalStateException("cpuslab: front end " + frontEnd.info() + " has a native descriptor but no flavour");
            }
            this.cpuCache = new CpuCache(frontEnd, layout, transfer, os, config.perCpuCacheBytes(), events);
            // Last: its thread starts here, and the rollback below does not stop it.
            this.maintenance = config.maintained() ? new BackgroundMaintenance(new Maintenance(cpuCache, transfer, pageHeap,
                    config.releaseRate(), config.maintenancePeriodMillis(), config.idleDrainMillis()),
                    config.maintenancePeriodMillis(), config.maintenanceClock()) : null;
        } catch (RuntimeException | Error e) {
            // Whatever was made goes again: a front end holds process-wide state (overlay mode's one slot).
            // No caller has the allocator and no maintenance thread runs, so nothing can touch its memory:
            // each step runs whatever the ones before threw, and the caller gets e with their failures in it.
            Steps rollback = new Steps(e);
            if (created != null) {
                rollback.run(created::close);
            }
            rollback.run(() -> os.unmap(slabAddress, slabBytes));
            if (heap != null) {
                rollback.run(heap::close); // it unmaps the native page map as well
            } else if (classes != null) {
                rollback.run(classes::close); // no page heap took it over, so nothing else would unmap it
            }
            rollback.run(scope::close);
            throw e;
        }
    }

    /**
     * The parts of a new allocator named {@code name}; if any of them cannot be made, those made before
     * are taken down again and the failure is thrown.
     */
    static AllocatorParts open(AllocatorConfig config, FrontEndSelection.Choice choice, String name) {
        return new AllocatorParts(config, choice, name);
    }

    /**
     * Shows {@code allocator} in JFR's periodic statistics and, if {@code jmx}, registers its MXBean:
     * called last in its construction, since a JMX client or a JFR hook may call {@code stats()} from then
     * on. If it fails half-way, {@link #close()} takes back what it did.
     */
    void publish(CpuSlabAllocator allocator, boolean jmx) {
        published = allocator;
        AllocatorEvents.watch(allocator);
        mxBean = jmx ? AllocatorMXBeanSupport.register(allocator, allocator.name()) : null;
    }

    /**
     * Takes everything down in the order of the class comment; later calls do nothing, also after a
     * failed one. Also called when the allocator's construction fails after {@link #open}, before or
     * half-way through {@link #publish}.
     *
     * @throws RuntimeException the first step's failure (or an {@link Error}), with the later ones
     *                          suppressed in it, once every step that is safe to take has run
     */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Steps steps = new Steps(null);
        if (published != null) { // null when construction failed before publish
            steps.run(() -> AllocatorEvents.unwatch(published));
        }
        if (mxBean != null) {
            steps.run(mxBean::unregister);
        }
        // The two steps above only take the allocator out of reports. Each of the next three stops
        // something that touches allocator memory, so unmapping needs all three: if one failed, something
        // may still touch it. A fast path the front end did not stop would fault on unmapped memory (native
        // code: the process dies), the maintenance thread's raw madvise of slab pages would zero whatever
        // the OS has mapped there since, a Java access the arena did not wait out would fault. The memory
        // then stays mapped: a leak, but no crash and no corruption. The three still all run: each one
        // that stops something is one thing less that could touch the memory.
        boolean stopped = maintenance == null || steps.run(maintenance::stop);
        stopped = steps.run(frontEnd::close) && stopped;
        stopped = steps.run(scope::close) && stopped;
        if (stopped) {
            steps.run(pageHeap::close);
            steps.run(() -> os.unmap(slabAddress, slabBytes));
        }
        steps.rethrow();
    }

    /**
     * Drains every per-CPU and transfer cache and releases every free page; under the monitor of
     * {@link #close()} (see the class comment).
     */
    synchronized void releaseMemory() {
        checkOpen();
        cpuCache.drainAll(AllocatorEvents.Reason.RELEASE_MEMORY);
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            transfer[sc].flush();
        }
        pageHeap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("cpuslab allocator is closed");
        }
    }

    /** After close, accesses to allocator memory fail with the JDK's "Already closed": say it in our words. */
    RuntimeException closedOr(IllegalStateException e) {
        return closed && !(e instanceof MemoryCorruptionException) ? new IllegalStateException("cpuslab allocator is closed", e) : e;
    }

    /** Allocator memory as a segment of the allocator's scope: accesses after close throw instead of faulting. */
    MemorySegment view(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes, scope, null);
    }
}
