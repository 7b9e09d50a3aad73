package io.cpuslab.core;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Placement alone: which hugepage a span goes to, and where in it. */
class HugePageFillerTest {
    private static final int PAGES = HugePageFiller.PAGES;
    private final HugePageFiller filler = new HugePageFiller();

    /** A hugepage in the filler with {@code [from, to)} pairs of pages in use. */
    private HugePageFiller.HugePage hugePage(long number, int... usedRanges) {
        HugePageFiller.HugePage hugePage = new HugePageFiller.HugePage(number * PAGES);
        filler.add(hugePage);
        for (int i = 0; i < usedRanges.length; i += 2) {
            filler.allocate(hugePage, usedRanges[i], usedRanges[i + 1] - usedRanges[i]);
        }
        return hugePage;
    }

    @Test
    void aSpanGoesToTheHugePageWithTheShortestFreeRangeThatFits() {
        HugePageFiller.HugePage roomy = hugePage(0, 0, 100);    // longest free 156
        HugePageFiller.HugePage tight = hugePage(1, 0, 200);    // longest free 56
        HugePageFiller.HugePage full = hugePage(2, 0, PAGES);
        assertSame(tight, filler.find(10, 1));
        assertSame(tight, filler.find(56, 1));
        assertSame(roomy, filler.find(57, 1), "does not fit the tight one");
        assertNull(filler.find(157, 1), "fits none: the page heap brings in a new hugepage");
        assertEquals(0, full.longestFree());
    }

    @Test
    void amongEqualLongestFreeRangesTheFullestHugePageWins() {
        // Both have 64 free pages in a row at most; the second (higher address) has more in use.
        HugePageFiller.HugePage sparse = hugePage(0, 64, 128, 192, 256);  // used 128
        HugePageFiller.HugePage dense = hugePage(1, 0, 128, 192, 256);    // used 192
        assertEquals(sparse.longestFree(), dense.longestFree());
        assertSame(dense, filler.find(8, 1));
        filler.free(dense, 0, 128); // now the longest free range of dense is 192: sparse is the tighter fit
        assertSame(sparse, filler.find(8, 1));
    }

    @Test
    void insideAHugePageTheSmallestFreeRangeThatFitsIsTaken() {
        // Free: [10, 40) of 30 pages, [50, 60) of 10, [70, 256) of 186.
        HugePageFiller.HugePage hugePage = hugePage(0, 0, 10, 40, 50, 60, 70);
        assertEquals(50, HugePageFiller.place(hugePage, 8, 1));
        assertEquals(10, HugePageFiller.place(hugePage, 11, 1));
        assertEquals(70, HugePageFiller.place(hugePage, 31, 1));
        assertEquals(-1, HugePageFiller.place(hugePage, 187, 1));
    }

    @Test
    void alignedSpansStartOnTheirAlignmentInsideTheHugePage() {
        HugePageFiller.HugePage hugePage = hugePage(0, 0, 3);
        assertEquals(16, HugePageFiller.place(hugePage, 4, 16));
        assertEquals(4, HugePageFiller.place(hugePage, 4, 4));
        // A span as big as a hugepage's last free pages, aligned beyond them, needs a whole free hugepage.
        HugePageFiller.HugePage empty = hugePage(1);
        assertSame(empty, filler.find(100, PAGES));
        assertEquals(0, HugePageFiller.place(empty, 100, PAGES));
    }

    @Test
    void releasedPagesAreCountedAndBackedAgainWhenUsed() {
        HugePageFiller.HugePage hugePage = hugePage(0, 0, 100);
        assertEquals(100, hugePage.nextFreeBacked(0));
        assertEquals(PAGES, hugePage.nextNotFreeBacked(100));
        HugePageFiller.markReleased(hugePage, 100, PAGES - 100);
        assertEquals(PAGES - 100, hugePage.releasedPages());
        assertEquals(0, hugePage.freeBackedPages());
        assertEquals(PAGES, hugePage.nextFreeBacked(0));
        assertEquals(156, hugePage.longestFree(), "released pages are free pages all the same");
        assertEquals(20, filler.allocate(hugePage, 100, 20), "the 20 pages were released: the caller backs them");
        assertEquals(PAGES - 120, hugePage.releasedPages());
    }

    @Test
    void aHugePageOutOfTheFillerIsNeverChosen() {
        HugePageFiller.HugePage hugePage = hugePage(0, 0, 10);
        filler.remove(hugePage);
        assertNull(filler.find(1, 1));
        assertEquals(0, filler.hugePages().size());
    }

    /**
     * What a cut inside TreeMap's own remove can leave (it counts the entry gone, then dies before
     * unlinking it): a hugepage's old entry, still in the order. It is dropped when met, and when the
     * hugepage is filed again with the same key, the new entry takes its place: the hugepage stays findable.
     */
    @Test
    void anEntryACutLeftBehindNeverHidesItsHugePage() throws ReflectiveOperationException {
        HugePageFiller.HugePage hugePage = hugePage(0, 0, 10);
        TreeSet<Object> order = order();
        Object old = order.first();
        filler.allocate(hugePage, 10, 5);
        order.add(old);                           // left behind: it says 246 free pages in a row, there are 241
        assertNull(filler.find(242, 1), "the old entry is dropped when met, not chosen");
        assertEquals(1, order.size());
        order.add(old);                           // left behind again, then the same key filed anew
        filler.free(hugePage, 10, 5);
        assertSame(hugePage, filler.find(1, 1));
        assertEquals(1, order.size());
    }

    @SuppressWarnings("unchecked")
    private TreeSet<Object> order() throws ReflectiveOperationException {
        Field field = HugePageFiller.class.getDeclaredField("order");
        field.setAccessible(true);
        return (TreeSet<Object>) field.get(filler);
    }
}
