package io.cpuslab.core;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sampled guard pages, the idea of TCMalloc's GWP-ASan: one in {@code rate} small allocations becomes
 * a span of its own whose last page is {@code PROT_NONE}, with the block placed so that its usable end
 * touches that page. An overrun past the usable size faults at the faulting instruction instead of
 * silently damaging a neighbour. The block is 16-byte aligned like every other, so up to 15 bytes
 * between the requested size and the guard are not covered.
 *
 * <p>Each guarded block costs a page plus a guard page and splits the mapping (more entries against
 * {@code vm.max_map_count}), so at most {@link #MAX_LIVE} are live at once; beyond that, and where the
 * OS cannot protect pages, allocations are simply not guarded.
 *
 * <pre>{@code
 * GuardedBlocks guards = new GuardedBlocks(pageHeap, os, 1000);
 * Span span = guards.sample() ? guards.allocate(size) : null;   // null: allocate normally
 * ...
 * guards.release(span);   // before the retired span goes back to the page heap
 * }</pre>
 */
final class GuardedBlocks {
    /** Most guarded blocks live at once. */
    static final int MAX_LIVE = 1024;
    private static final long ALIGNMENT = 16;

    private final PageHeap pageHeap;
    private final OsMemory os;
    private final long rate;
    private final AtomicInteger live = new AtomicInteger();

    GuardedBlocks(PageHeap pageHeap, OsMemory os, long rate) {
        this.pageHeap = pageHeap;
        this.os = os;
        this.rate = rate;
    }

    /** Whether this allocation is one of the sampled ones (no ThreadLocal: the random state lives in the Thread). */
    boolean sample() {
        return ThreadLocalRandom.current().nextLong(rate) == 0;
    }

    /** A span whose {@link Span#guardedBlock} has room for {@code size} bytes before the guard, or null when none can be had. */
    Span allocate(long size) {
        if (live.incrementAndGet() > MAX_LIVE) {
            live.decrementAndGet();
            return null;
        }
        long bytes = (Math.max(size, 1) + ALIGNMENT - 1) & -ALIGNMENT;
        PageHeap.Allocation answer;
        try {
            answer = pageHeap.allocate(SizeClasses.pagesFor(bytes) + 1, 0);
        } catch (RuntimeException | Error e) {
            live.decrementAndGet(); // a Java-heap error or a closed heap: the place is not taken
            throw e;
        }
        if (!(answer instanceof Span span)) {
            live.decrementAndGet();
            return null; // no memory: the ordinary path says it with the right numbers, or finds room in a cache
        }
        long guard = guardPage(span);
        if (!os.protect(guard, SizeClasses.PAGE_SIZE, false)) {
            span.retire();
            pageHeap.free(span);
            live.decrementAndGet();
            return null;
        }
        span.guardedBlock = guard - bytes;
        return span;
    }

    /** Makes the guard page of a retired guarded span accessible again, so the page heap can reuse it. */
    void release(Span span) {
        if (!os.protect(guardPage(span), SizeClasses.PAGE_SIZE, true)) {
            throw new IllegalStateException("cpuslab: mprotect could not restore the guard page of " + span);
        }
        live.decrementAndGet();
    }

    /** Usable bytes of a guarded block: up to the guard page. */
    static long usable(Span span) {
        return guardPage(span) - span.guardedBlock;
    }

    private static long guardPage(Span span) {
        return span.start() + span.bytes() - SizeClasses.PAGE_SIZE;
    }
}
