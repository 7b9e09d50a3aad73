package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Release in a hugepage-aware heap: whole free hugepages go back first, and a hugepage in use is broken
 * (its free pages released) only when a limit demands it.
 */
class PageHeapHugePageReleaseTest {
    private static final int PAGES = HugePageFiller.PAGES;
    private static final long HUGE_PAGE = PageHeap.HUGE_PAGE_BYTES;
    private final FaultyMemory os = new FaultyMemory();
    private PageHeap heap;

    private PageHeap heap(long memoryLimit, long softMemoryLimit) {
        heap = new PageHeap(os, new PageMap(), null, memoryLimit, softMemoryLimit, false, true);
        return heap;
    }

    @AfterEach
    void close() {
        heap.close();
    }

    private void free(Span span) {
        assertTrue(span.retire());
        heap.free(span);
    }

    private static long bytes(long pages) {
        return pages << SizeClasses.PAGE_SHIFT;
    }

    private void assertPartsAddUp() {
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(s.mappedBytes(), s.inUseBytes() + s.freeBytes() + s.releasedBytes(), s.toString());
    }

    @Test
    void releaseGivesBackWholeFreeHugePagesAndLeavesTheOnesInUseWhole() {
        heap(Long.MAX_VALUE, Long.MAX_VALUE);
        Span small = span(heap.allocate(1, 0));                   // hugepage A, 255 pages free
        Span big = span(heap.allocate(2 * PAGES, 0));
        free(big);                                          // two whole free hugepages
        int releases = os.releases.get();
        assertEquals(2 * HUGE_PAGE, heap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY));
        assertEquals(releases + 1, os.releases.get(), "one madvise for the run of two hugepages");
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(bytes(PAGES - 1), s.freeBytes(), "A's free pages stay backed: " + s);
        assertEquals(0, s.brokenTotal());
        assertEquals(1, s.partialHugePages());
        assertEquals(0, s.freeHugePages());
        assertEquals(Span.IN_USE, small.state());
        assertPartsAddUp();
    }

    @Test
    void releaseGivesBackTheLargestRunOfWholeHugePagesFirst() {
        heap(Long.MAX_VALUE, Long.MAX_VALUE);
        Span one = span(heap.allocate(PAGES, 0));
        Span pin = span(heap.allocate(PAGES, 0));
        Span three = span(heap.allocate(3 * PAGES, 0));
        Span pin2 = span(heap.allocate(PAGES, 0));                // the pins keep the two free runs apart
        free(one);
        free(three);
        assertEquals(4, heap.snapshot().freeHugePages());
        assertEquals(3 * HUGE_PAGE, heap.release(1, AllocatorEvents.Reason.RELEASE_MEMORY));       // one byte asked, one whole run given
        assertEquals(1, heap.snapshot().freeHugePages());
        assertEquals(Span.IN_USE, pin.state());
        assertEquals(Span.IN_USE, pin2.state());
    }

    @Test
    void aSoftLimitThatWholeHugePagesSatisfyBreaksNone() {
        heap(Long.MAX_VALUE, bytes(900));
        span(heap.allocate(1, 0));                                // A: 1 page in use, 255 free backed
        Span whole = span(heap.allocate(PAGES, 0));
        free(whole);                                        // a whole free hugepage; 512 pages backed
        span(heap.allocate(2 * PAGES, 0));                        // 512 more would pass 900: the whole one goes
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(0, s.brokenTotal(), s.toString());
        assertEquals(bytes(PAGES - 1), s.freeBytes(), "only the whole free hugepage went back: " + s);
        assertEquals(HUGE_PAGE, s.releasedTotalBytes());
        assertPartsAddUp();
    }

    @Test
    void aSoftLimitBreaksAHugePageWhenNoWholeFreeOneIsLeftAndItsPagesAreBackedWhenUsedAgain() {
        heap(Long.MAX_VALUE, bytes(100));
        Span first = span(heap.allocate(1, 0));
        Span second = span(heap.allocate(1, 0));
        free(second);                                       // 256 pages backed, 1 in use: A must break
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(1, s.brokenTotal(), s.toString());
        assertEquals(1, s.brokenHugePages());
        assertEquals(0, s.freeBytes());
        assertEquals(bytes(PAGES - 1), s.releasedTotalBytes());
        assertPartsAddUp();

        long releasedBefore = s.releasedBytes();
        Span again = span(heap.allocate(4, 0));                   // on released pages of A: backed again
        assertEquals(first.startPage / PAGES, again.startPage / PAGES);
        MemorySegment memory = MemorySegment.ofAddress(again.start()).reinterpret(again.bytes());
        assertEquals(0, memory.get(ValueLayout.JAVA_LONG, 0), "released pages read as zero");
        memory.fill((byte) 5);
        assertEquals(releasedBefore - bytes(4), heap.snapshot().releasedBytes());
        assertPartsAddUp();

        free(first);
        free(again);                                        // A is empty: back to the runs, all released
        s = heap.snapshot();
        assertEquals(0, s.partialHugePages() + s.brokenHugePages() + s.freeBytes() + s.inUseBytes(), s.toString());
        assertEquals(1, s.brokenTotal());
        assertPartsAddUp();
    }

    @Test
    void theHardLimitBreaksAHugePageRatherThanFailAndOnlyThen() {
        heap(Long.MAX_VALUE, Long.MAX_VALUE);
        span(heap.allocate(1, 0));
        span(heap.allocate(PAGES, 0));
        assertEquals(0, heap.snapshot().brokenTotal(), "no limit: nothing is broken");
        heap.close();

        heap(bytes(300), Long.MAX_VALUE);
        span(heap.allocate(1, 0));                                // A: 256 pages backed
        Span whole = span(heap.allocate(PAGES, 0));               // 256 more would pass 300: A's free pages go
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(1, s.brokenTotal(), s.toString());
        assertTrue(s.inUseBytes() + s.freeBytes() <= bytes(300), s.toString());
        assertEquals(PAGES, whole.pages);
        assertPartsAddUp();
    }
}
