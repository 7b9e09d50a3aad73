package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hugepage-aware page heap: where spans go (placement through the filler, whole hugepages). */
class PageHeapHugePageTest {
    private static final int PAGES = HugePageFiller.PAGES;
    private final FaultyMemory os = new FaultyMemory();
    private final PageMap map = new PageMap();
    private PageHeap heap = heap(Long.MAX_VALUE, Long.MAX_VALUE);

    private PageHeap heap(long memoryLimit, long softMemoryLimit) {
        return new PageHeap(os, map, null, memoryLimit, softMemoryLimit, false, true);
    }

    @AfterEach
    void close() {
        heap.close();
    }

    private static long hugePageOf(Span span) {
        return span.startPage / PAGES;
    }

    private void free(Span span) {
        assertTrue(span.retire());
        heap.free(span);
    }

    private void assertPartsAddUp() {
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(s.mappedBytes(), s.inUseBytes() + s.freeBytes() + s.releasedBytes(), s.toString());
    }

    @Test
    void smallSpansArePackedIntoOneHugePage() {
        List<Span> spans = new ArrayList<>();
        long pages = 0;
        for (int i = 1; pages + i <= PAGES; i++) {
            spans.add(span(heap.allocate(i, 0)));
            pages += i;
        }
        for (Span span : spans) {
            assertEquals(hugePageOf(spans.get(0)), hugePageOf(span), span.toString());
            assertEquals(hugePageOf(span), (span.endPage() - 1) / PAGES, "inside one hugepage: " + span);
        }
        assertEquals(1, os.maps.get());
        assertPartsAddUp();
    }

    @Test
    void aSpanGoesToTheFullestHugePageThatFitsIt() {
        Span a = span(heap.allocate(200, 0));          // hugepage A: 56 pages free
        Span b = span(heap.allocate(100, 0));          // does not fit A: hugepage B, 156 free
        assertNotEquals(hugePageOf(a), hugePageOf(b));
        Span small = span(heap.allocate(10, 0));
        assertEquals(hugePageOf(a), hugePageOf(small), "the tighter fit, A");
        assertEquals(a.endPage(), small.startPage);
        Span medium = span(heap.allocate(60, 0));      // A has 46 left
        assertEquals(hugePageOf(b), hugePageOf(medium));
        assertPartsAddUp();
    }

    @Test
    void spansOfAHugePageOrMoreAreWholeHugePagesAndTheRestOfTheLastGoesToTheFiller() {
        Span whole = span(heap.allocate(PAGES, 0));
        assertEquals(0, whole.startPage % PAGES);
        assertNull(whole.hugePage);
        Span big = span(heap.allocate(PAGES + 44, 0)); // 2.1 MiB-ish: two hugepages, 212 pages of the second donated
        assertEquals(0, big.startPage % PAGES);
        Span small = span(heap.allocate(10, 0));
        assertSame(big.hugePage, small.hugePage, "the donated pages are the only ones in the filler");
        assertEquals(big.endPage(), small.startPage);
        assertEquals(1, os.maps.get());
        free(big);
        assertEquals(Span.IN_USE, small.state());
        Span again = span(heap.allocate(2 * PAGES, 0)); // the freed first hugepage alone cannot hold it
        assertTrue(again.endPage() <= small.startPage || again.startPage >= small.endPage());
        assertPartsAddUp();
    }

    @Test
    void alignedSpansStartOnTheirAlignment() {
        span(heap.allocate(1, 0));
        for (long align : new long[] {2, 4, 16, 64, 256, 512, 1024}) {
            Span s = span(heap.allocateAligned(3, align, 0));
            assertEquals(0, s.startPage % align, "alignment " + align + " pages");
        }
        Span big = span(heap.allocateAligned(300, 1024, 0));
        assertEquals(0, big.startPage % 1024);
        assertPartsAddUp();
    }

    @Test
    void aHugePageWhoseSpansAllCameBackReturnsWhole() {
        List<Span> spans = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            spans.add(span(heap.allocate(4, 0))); // exactly one hugepage
        }
        Span other = span(heap.allocate(4, 0));    // the next one
        assertNotEquals(hugePageOf(spans.get(0)), hugePageOf(other));
        spans.forEach(this::free);
        // The whole hugepage is a free run again: a span of a hugepage fits it without mapping more.
        Span whole = span(heap.allocate(PAGES, 0));
        assertEquals(hugePageOf(spans.get(0)), hugePageOf(whole));
        assertEquals(1, os.maps.get());
        assertPartsAddUp();
    }

    /** Random sizes, alignments and frees: spans never overlap, each keeps what was written into it, and all of it adds up. */
    @Test
    void randomSpansStayDisjointAndKeepTheirContents() {
        List<Span> live = new ArrayList<>();
        Random random = new Random(3);
        for (int round = 0; round < 1000; round++) {
            if (!live.isEmpty() && random.nextInt(3) == 0) {
                free(live.remove(random.nextInt(live.size())));
            } else {
                long pages = random.nextInt(10) == 0 ? 1 + random.nextInt(3 * PAGES) : 1 + random.nextInt(32);
                Span span = random.nextInt(8) == 0 ? span(heap.allocateAligned(pages, 1L << random.nextInt(10), 0))
                        : span(heap.allocate(pages, 0));
                memory(span).fill((byte) span.startPage);
                live.add(span);
            }
        }
        Claims claims = new Claims("random spans");
        for (Span span : live) {
            claims.claim(span);
            assertSame(span, map.get(span.start()));
            assertSame(span, map.get(span.start() + span.bytes() - 1));
            assertEquals((byte) span.startPage, memory(span).get(ValueLayout.JAVA_BYTE, 0), span.toString());
            assertEquals((byte) span.startPage, memory(span).get(ValueLayout.JAVA_BYTE, span.bytes() - 1), span.toString());
        }
        assertPartsAddUp();
        live.forEach(this::free);
        assertEquals(0, heap.snapshot().inUseBytes());
        assertPartsAddUp();
    }

    private static MemorySegment memory(Span span) {
        return MemorySegment.ofAddress(span.start()).reinterpret(span.bytes());
    }
}
