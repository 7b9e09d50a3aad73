package io.cpuslab.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.util.List;
import java.util.TreeSet;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Page heap work cut short at a call, as a {@link StackOverflowError} there would: it may leak pages, but
 * no page may ever be reachable twice (two free runs, or a free run and a span in use), no page handed out
 * again may still carry a small span's class in the native page map, and the heap must keep working.
 */
class PageHeapCutTest {
    private static final long REGION_PAGES = PageHeap.REGION_BYTES >>> SizeClasses.PAGE_SHIFT;
    /** Low enough that frees and allocations from released runs release backed runs as they go. */
    private static final long SOFT_LIMIT = 24 * SizeClasses.PAGE_SIZE;
    private static final int SLOTS = 8;

    /** One step of the scenario, on the heap and the spans held in slots. */
    private interface Step {
        void apply(PageHeap heap, Span[] held);
    }

    private static Step allocate(int slot, long pages, long alignPages) {
        return allocate(slot, pages, alignPages, 0);
    }

    /** A span for size class {@code sc}: its pages get native page map entries, cleared when it goes back. */
    private static Step allocate(int slot, long pages, long alignPages, int sc) {
        return (heap, held) -> held[slot] = span(heap.allocateAligned(pages, alignPages, sc));
    }

    private static Step free(int slot) {
        return (heap, held) -> {
            Span span = held[slot];
            held[slot] = null; // a free that dies is not tried again: its caller cannot know how far it got
            if (span != null && span.retire()) {
                heap.free(span);
            }
        };
    }

    private static Step release(long pages) {
        return (heap, held) -> heap.release(pages << SizeClasses.PAGE_SHIFT, AllocatorEvents.Reason.RELEASE_MEMORY);
    }

    /**
     * Carving (with head and tail pieces), freeing next to free runs in both states, releasing, taking
     * from a released run over the soft limit, and growing by a second region.
     */
    private static final List<Step> SCENARIO = List.of(
            allocate(0, 3, 1), allocate(1, 5, 1, 21), allocate(2, 4, 8), allocate(3, 2, 1, 4), allocate(4, 6, 1),
            free(1), free(3),
            allocate(5, 2, 4),
            release(4),
            free(0), free(2),
            allocate(6, 7, 1),
            allocate(7, REGION_PAGES + 1, 1),
            free(4), allocate(0, 3, 2, 27), free(5), free(6), free(7),
            release(Long.MAX_VALUE >>> SizeClasses.PAGE_SHIFT));

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aStackOverflowAtAnyPageMapOrOsCallLeavesNoPageInTwoRunsOrFreeAndInUse() {
        sweep(false);
    }

    /**
     * The same in a hugepage-aware heap: small spans in the filler, the large one in whole hugepages with
     * its last one's rest donated, hugepages emptied back to the runs, and broken under the soft limit.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aStackOverflowAtAnyCallOfAHugePageAwareHeapLeavesNoPageInTwoRunsOrFreeAndInUse() {
        sweep(true);
    }

    private static void sweep(boolean hugePages) {
        int calls = run(-1, hugePages);
        // The filler places spans without the page map's neighbour lookups: fewer calls, the same steps.
        assertTrue(calls > (hugePages ? 60 : 100), calls + " calls");
        for (int at = 0; at < calls; at++) {
            run(at, hugePages);
        }
    }

    /** Runs the scenario, cut at call {@code at} (-1: not at all), then checks the heap; returns the calls made. */
    private static int run(int at, boolean hugePages) {
        Cuts cuts = new Cuts(at, StackOverflowError::new);
        PageHeap heap = new PageHeap(cuts.os, cuts.pageMap, cuts.classes, Long.MAX_VALUE, SOFT_LIMIT, false, hugePages);
        try {
            Span[] held = new Span[SLOTS];
            for (Step step : SCENARIO) {
                try {
                    step.apply(heap, held);
                } catch (StackOverflowError e) {
                    // the thread died in this step; the others go on
                }
            }
            int calls = cuts.calls();
            if (at < 0) {
                PageHeap.Snapshot s = heap.snapshot();
                assertTrue(s.regions() == 2 && s.releasedTotalBytes() > 0, "the scenario grows and releases: " + s);
                assertTrue(!hugePages || s.brokenTotal() > 0, "the soft limit breaks hugepages: " + s);
            }
            cuts.stop();
            cuts.failMaps();
            // Frees next to what the cut left behind: a run it left findable would be merged in now.
            for (int slot = 0; slot < SLOTS; slot += 2) {
                free(slot).apply(heap, held);
            }
            heap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
            Claims claims = new Claims(cuts.toString());
            for (Span span : held) {
                if (span != null) {
                    claims.claim(span);
                }
            }
            List<Span> out = claims.exhaust(heap);
            for (Span span : out) {
                for (long page = span.startPage; page < span.endPage(); page++) {
                    if (cuts.classes.entry(page) != 0) {
                        throw new AssertionError("page " + page + " handed out again for a large block still names class "
                                + (cuts.classes.entry(page) & 0xFF) + " in the native page map; " + cuts);
                    }
                }
            }
            for (int slot = 1; slot < SLOTS; slot += 2) {
                free(slot).apply(heap, held);
            }
            for (Span span : out) {
                span.retire();
                heap.free(span);
            }
            heap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
            long pages = new Claims(cuts.toString()).exhaust(heap).stream().mapToLong(span -> span.pages).sum();
            if (at < 0) {
                assertEquals(heap.snapshot().mappedBytes(), pages << SizeClasses.PAGE_SHIFT, "uncut, every page comes back");
            }
            return calls;
        } finally {
            heap.close();
            cuts.unmapLeft();
        }
    }

    /**
     * What a cut inside TreeMap's own remove can leave (it counts the entry gone, then dies rebalancing
     * before unlinking it): the entry of a run already retired and carved. Its pages, now in use, are
     * neither released under their user nor handed out again.
     */
    @Test
    @Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anEntryACutLeftInAFreeSetIsNeverReleasedOrHandedOut() throws ReflectiveOperationException {
        PageHeap heap = new PageHeap(new FaultyMemory(), new PageMap(), Long.MAX_VALUE, false);
        try {
            span(heap.allocate(1, 0));
            Span first = span(heap.allocate(4, 0));
            span(heap.allocate(1, 0)); // keeps the freed span apart from the rest of the region
            first.retire();
            heap.free(first);
            TreeSet<Span> backed = freeSet(heap, "backed");
            Span run = backed.first();
            Span inUse = span(heap.allocate(4, 0));
            assertEquals(Span.MERGED, run.state());
            assertEquals(run.startPage, inUse.startPage);
            backed.add(run);
            MemorySegment block = MemorySegment.ofAddress(inUse.start()).reinterpret(inUse.bytes());
            block.fill((byte) 7);
            heap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
            assertEquals(7, block.get(ValueLayout.JAVA_BYTE, 0), "pages in use were released");
            backed.add(run);
            Span next = span(heap.allocate(4, 0));
            assertTrue(next.endPage() <= inUse.startPage || inUse.endPage() <= next.startPage, next + " overlaps " + inUse);
        } finally {
            heap.close();
        }
    }

    @SuppressWarnings("unchecked")
    private static TreeSet<Span> freeSet(PageHeap heap, String name) throws ReflectiveOperationException {
        Field field = PageHeap.class.getDeclaredField(name);
        field.setAccessible(true);
        return (TreeSet<Span>) field.get(heap);
    }
}
