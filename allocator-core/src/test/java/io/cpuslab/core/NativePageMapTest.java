package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native page map as the page heap keeps it: every page of a small span names its class and its
 * index in the span from the moment the span is carved until it goes back, and nothing else does.
 */
class NativePageMapTest {
    private final FaultyMemory os = new FaultyMemory();
    private final NativePageMap classes = new NativePageMap(os);
    private final PageHeap heap = new PageHeap(os, new PageMap(), classes, Long.MAX_VALUE, Long.MAX_VALUE, false);

    @AfterEach
    void close() {
        heap.close();
    }

    private static int entry(int sizeClass, int index) {
        return sizeClass | index << 8;
    }

    @Test
    void everyPageOfASmallSpanNamesItsClassAndIndex() {
        int sc = SizeClasses.classFor(1100); // 1152 B, in spans of 2 pages
        Span span = span(heap.allocate(SizeClasses.pages(sc), sc));
        assertEquals(entry(sc, 0), classes.entry(span.startPage));
        assertEquals(entry(sc, 1), classes.entry(span.startPage + 1));
        assertEquals(0, classes.entry(span.endPage()), "the page after the span");
    }

    @Test
    void largeSpansAndFreeRunsHaveNoEntries() {
        Span large = span(heap.allocate(40, 0));
        for (long page = large.startPage; page < large.endPage(); page++) {
            assertEquals(0, classes.entry(page));
        }
        assertEquals(0, classes.entry(large.endPage() + 3), "the untouched rest of the region");
    }

    @Test
    void aSpanForgetsItsClassBeforeItsPagesAreFree() {
        int sc = SizeClasses.classFor(64);
        Span small = span(heap.allocate(1, sc));
        small.retire();
        heap.free(small);
        assertEquals(0, classes.entry(small.startPage));
        Span again = span(heap.allocate(1, 0)); // the same page, reused for a large block
        assertEquals(small.startPage, again.startPage);
        assertEquals(0, classes.entry(again.startPage));
    }

    @Test
    void aRegionBringsTheLeavesThatCoverItOnce() {
        long root = (16 + 8L * (1 << 17) + SizeClasses.PAGE_SIZE - 1) & -SizeClasses.PAGE_SIZE;
        long leaf = 2L << 18;
        span(heap.allocate(1, SizeClasses.classFor(64)));
        long leaves = heap.snapshot().nativePageMapBytes() - root;
        assertTrue(leaves == leaf || leaves == 2 * leaf, "one leaf covers 2 GiB; a region may straddle two: " + leaves);
        span(heap.allocate(7, SizeClasses.classFor(64))); // the same region
        assertEquals(root + leaves, heap.snapshot().nativePageMapBytes());
    }

    @Test
    void aRegionWhoseLeafCannotBeMappedIsGivenBackAndTheRefusalSaysWhy() {
        long before = os.mappedBytes.get();
        os.failAfter(1); // the region maps, its leaf does not
        assertEquals(new NoMemory(1, "mmap of 512 KiB failed: errno 12 (simulated)"), heap.allocate(1, SizeClasses.classFor(64)));
        assertEquals(0, heap.snapshot().regions());
        assertEquals(before, os.mappedBytes.get(), "the region went back");
        os.failAfter(Integer.MAX_VALUE);
        Span span = span(heap.allocate(1, SizeClasses.classFor(64)));
        assertEquals(entry(SizeClasses.classFor(64), 0), classes.entry(span.startPage));
    }

    @Test
    void aRegionWhoseLeafFailsForWantOfJavaHeapIsGivenBackAndTheErrorPassesThrough() {
        long before = os.mappedBytes.get();
        OutOfMemoryError javaHeap = new OutOfMemoryError("Java heap space (simulated)");
        os.failWith(bytes -> javaHeap);
        os.failAfter(1);
        assertSame(javaHeap, assertThrows(OutOfMemoryError.class, () -> heap.allocate(1, SizeClasses.classFor(64))));
        assertEquals(0, heap.snapshot().regions());
        assertEquals(before, os.mappedBytes.get(), "the region went back");
        os.failAfter(Integer.MAX_VALUE);
        Span span = span(heap.allocate(1, SizeClasses.classFor(64)));
        assertEquals(entry(SizeClasses.classFor(64), 0), classes.entry(span.startPage));
    }

    /** The same rules when the spans come from hugepages: the filler's and whole ones. */
    @Test
    void inAHugePageAwareHeapOnlyPagesOfSmallSpansNameAClassToo() {
        FaultyMemory hugeOs = new FaultyMemory();
        NativePageMap hugeClasses = new NativePageMap(hugeOs);
        PageHeap hugeHeap = new PageHeap(hugeOs, new PageMap(), hugeClasses, Long.MAX_VALUE, Long.MAX_VALUE, false, true);
        try {
            int sc = SizeClasses.classFor(1100);
            int tiny = SizeClasses.classFor(64);
            Span a = span(hugeHeap.allocate(SizeClasses.pages(sc), sc));
            Span b = span(hugeHeap.allocate(1, tiny));
            assertEquals(a.endPage(), b.startPage, "packed into the same hugepage");
            assertEquals(entry(sc, 1), hugeClasses.entry(a.startPage + 1));
            assertEquals(entry(tiny, 0), hugeClasses.entry(b.startPage));
            assertEquals(0, hugeClasses.entry(b.endPage()), "the free rest of the hugepage");
            a.retire();
            hugeHeap.free(a);
            assertEquals(0, hugeClasses.entry(a.startPage));
            assertEquals(0, hugeClasses.entry(a.startPage + 1));
            b.retire();
            hugeHeap.free(b); // the hugepage is empty: back to the free runs whole
            Span whole = span(hugeHeap.allocate(HugePageFiller.PAGES, 0));
            assertEquals(a.startPage, whole.startPage, "the same hugepage, now one large span");
            for (long page = whole.startPage; page < whole.endPage(); page++) {
                assertEquals(0, hugeClasses.entry(page));
            }
        } finally {
            hugeHeap.close();
        }
    }

    /** A leaf that cannot be unmapped stays mapped; the other leaf and the root do not. */
    @Test
    void aLeafThatCannotBeUnmappedLeavesTheRestToBeUnmapped() {
        FaultyMemory own = new FaultyMemory();
        NativePageMap map = new NativePageMap(own);
        long leafPages = 1L << NativePageMap.LEAF_BITS;
        map.reserve(0, 1);
        map.reserve(leafPages, 1); // a second leaf
        long mapped = own.mappedBytes.get();
        own.failUnmaps(1); // the first leaf's

        IllegalStateException thrown = assertThrows(IllegalStateException.class, map::close);

        try {
            assertTrue(thrown.getMessage().contains("(simulated)"), thrown.getMessage());
            assertEquals(1, own.failedUnmaps.size());
            assertEquals(own.failedUnmaps.get(0)[1], own.mappedBytes.get(),
                    "only the leaf whose unmap failed is still mapped, of the " + mapped + " bytes the map had");
        } finally {
            own.failedUnmaps.forEach(region -> own.unmap(region[0], region[1]));
        }
    }
}
