package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageHeapTest {
    private final FaultyMemory os = new FaultyMemory();
    private final PageMap map = new PageMap();
    private PageHeap heap = new PageHeap(os, map, Long.MAX_VALUE, false);

    @AfterEach
    void close() {
        heap.close();
    }

    private static MemorySegment memory(Span span) {
        return MemorySegment.ofAddress(span.start()).reinterpret(span.bytes());
    }

    @Test
    void spansArePageAlignedDisjointAndMapped() {
        Span a = span(heap.allocate(3, 0));
        Span b = span(heap.allocate(5, 0));
        assertEquals(0, a.start() % SizeClasses.PAGE_SIZE);
        assertTrue(a.endPage() <= b.startPage || b.endPage() <= a.startPage);
        assertSame(a, map.get(a.start() + 2 * SizeClasses.PAGE_SIZE + 5));
        memory(a).fill((byte) 1);
        memory(b).fill((byte) 2);
        assertEquals(1, memory(a).get(ValueLayout.JAVA_BYTE, a.bytes() - 1));
        assertEquals(8 * SizeClasses.PAGE_SIZE, heap.snapshot().inUseBytes());
    }

    @Test
    void freedNeighboursCoalesceIntoOneRun() {
        Span a = span(heap.allocate(4, 0));
        Span b = span(heap.allocate(4, 0));
        Span c = span(heap.allocate(4, 0));
        int runsBefore = heap.snapshot().freeRuns();
        for (Span s : new Span[] {a, c, b}) {
            assertTrue(s.retire());
            heap.free(s);
        }
        assertEquals(runsBefore + 1, heap.snapshot().freeRuns(), "one backed run beside the untouched rest of the region");
        assertEquals(12 * SizeClasses.PAGE_SIZE, heap.snapshot().freeBytes());
        assertEquals(0, heap.snapshot().inUseBytes());
        // The merged run serves a request as big as all three together, without growing the heap.
        int maps = os.maps.get();
        span(heap.allocate(12, 0));
        assertEquals(maps, os.maps.get());
    }

    @Test
    void partsAlwaysAddUpToMappedBytes() {
        Span[] spans = new Span[50];
        for (int i = 0; i < spans.length; i++) {
            spans[i] = span(heap.allocate(1 + i % 7, 0));
        }
        for (int i = 0; i < spans.length; i += 2) {
            spans[i].retire();
            heap.free(spans[i]);
        }
        heap.release(20 * SizeClasses.PAGE_SIZE, AllocatorEvents.Reason.RELEASE_MEMORY);
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(s.mappedBytes(), s.inUseBytes() + s.freeBytes() + s.releasedBytes());
    }

    @Test
    void freeingKeepsMemoryBackedForQuickReuse() {
        for (int i = 0; i < 100; i++) {
            Span big = span(heap.allocate(128, 0)); // 1 MiB, next to the untouched rest of the region
            memory(big).set(ValueLayout.JAVA_LONG, 0, i);
            big.retire();
            heap.free(big);
        }
        assertEquals(0, os.releases.get(), "no madvise until someone asks for a release");
        assertEquals(1, os.maps.get());
    }

    @Test
    void alignedSpansStartOnTheirAlignment() {
        span(heap.allocate(1, 0)); // make the next free page unaligned
        for (long align : new long[] {2, 4, 16, 64, 256}) {
            Span s = span(heap.allocateAligned(3, align, 0));
            assertEquals(0, s.startPage % align, "alignment " + align + " pages");
        }
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(s.mappedBytes(), s.inUseBytes() + s.freeBytes() + s.releasedBytes());
    }

    @Test
    void releasedPagesGoBackToTheOsAndReadAsZero() {
        Span a = span(heap.allocate(16, 0));
        memory(a).fill((byte) 7);
        a.retire();
        heap.free(a);
        long released = heap.release(Long.MAX_VALUE, AllocatorEvents.Reason.RELEASE_MEMORY);
        assertTrue(released >= a.bytes());
        assertEquals(0, heap.snapshot().freeBytes());
        Span again = span(heap.allocate(16, 0));
        assertEquals(0, memory(again).get(ValueLayout.JAVA_LONG, 0), "released memory reads as zero");
        assertEquals(0, memory(again).get(ValueLayout.JAVA_LONG, again.bytes() - 8));
    }

    @Test
    void overTheLimitTheRefusalNamesTheLimitAndWhatIsInUseAndTheHeapStaysUsable() {
        heap.close();
        heap = new PageHeap(os, map, 100 * SizeClasses.PAGE_SIZE, false);
        Span a = span(heap.allocate(80, 0));
        PageHeap.Snapshot before = heap.snapshot();
        assertEquals(new NoMemory(30, "memory limit 800 KiB, in use 640 KiB"), heap.allocate(30, 0));
        assertEquals(before, heap.snapshot());
        a.retire();
        heap.free(a);
        assertEquals(30 * SizeClasses.PAGE_SIZE, span(heap.allocate(30, 0)).bytes());
    }

    @Test
    void aRequestBeyondTheAddressSpaceIsRefusedAsSuchWithItsAlignment() {
        long tooMany = 1L << 40;
        assertEquals(new NoMemory(tooMany, "larger than the address space"), heap.allocate(tooMany, 0));
        long alignPages = 1L << 37; // 1 PiB
        assertEquals(new NoMemory(1, "larger than the address space with an alignment of 1 PiB"),
                heap.allocateAligned(1, alignPages, 0));
        assertEquals(0, os.maps.get(), "refused before anything was mapped");
    }

    @Test
    void limitReleasesFreeBackedPagesBeforeFailing() {
        heap.close();
        heap = new PageHeap(os, map, 100 * SizeClasses.PAGE_SIZE, false);
        Span a = span(heap.allocate(90, 0));
        Span pin = span(heap.allocate(5, 0));
        a.retire();
        heap.free(a); // 90 free backed pages + 5 in use
        Span big = span(heap.allocateAligned(60, 64, 0)); // needs fresh pages: the free backed ones must be released
        PageHeap.Snapshot s = heap.snapshot();
        assertTrue(s.inUseBytes() + s.freeBytes() <= 100 * SizeClasses.PAGE_SIZE, s.toString());
        assertEquals(Span.IN_USE, pin.state());
        assertEquals(60, big.pages);
    }

    @Test
    void softLimitReleasesOnFreeAndNeverRefuses() {
        heap.close();
        heap = new PageHeap(os, map, Long.MAX_VALUE, 100 * SizeClasses.PAGE_SIZE, false);
        Span a = span(heap.allocate(90, 0));
        Span b = span(heap.allocate(90, 0)); // 180 pages in use: above the soft limit, and still served
        assertTrue(heap.overSoftLimit());
        a.retire();
        heap.free(a); // 90 in use + 90 free backed: the free ones go back at once
        PageHeap.Snapshot s = heap.snapshot();
        assertEquals(0, s.freeBytes(), s.toString());
        assertEquals(90 * SizeClasses.PAGE_SIZE, s.releasedTotalBytes());
        assertTrue(!heap.overSoftLimit());
        b.retire();
        heap.free(b); // 90 free backed pages are under the limit: they stay for reuse
        assertEquals(90 * SizeClasses.PAGE_SIZE, heap.snapshot().freeBytes());
    }

    @Test
    void releaseGivesBackTheLargestFreeRunFirst() {
        Span small = span(heap.allocate(10, 0));
        Span pin = span(heap.allocate(1, 0));
        Span large = span(heap.allocate(50, 0));
        Span pin2 = span(heap.allocate(1, 0)); // the pins keep the two free runs apart
        small.retire();
        heap.free(small);
        large.retire();
        heap.free(large);
        assertEquals(50 * SizeClasses.PAGE_SIZE, heap.release(1, AllocatorEvents.Reason.RELEASE_MEMORY)); // one byte asked, one whole run given
        assertEquals(10 * SizeClasses.PAGE_SIZE, heap.snapshot().freeBytes());
        assertEquals(Span.IN_USE, pin.state());
        assertEquals(Span.IN_USE, pin2.state());
    }

    @Test
    void aMapTheOsRefusesComesBackAsTheRefusalWithTheOsReasonAndChangesNothing() {
        Span a = span(heap.allocate(1, 0));
        PageHeap.Snapshot before = heap.snapshot();
        os.failing(true);
        long region = ((100_000L << SizeClasses.PAGE_SHIFT) + PageHeap.REGION_ALIGNMENT - 1) & -PageHeap.REGION_ALIGNMENT;
        assertEquals(new NoMemory(100_000, "mmap of " + Bytes.format(region) + " failed: errno 12 (simulated)"),
                heap.allocate(100_000, 0));
        assertEquals(before, heap.snapshot());
        os.failing(false);
        assertEquals(100_000, span(heap.allocate(100_000, 0)).pages);
        a.retire();
        heap.free(a);
    }

    /** Only the OS layer's refusal is no memory: the Java heap running out inside a map is the JVM's error. */
    @Test
    void anOutOfMemoryErrorOfTheJavaHeapInAMapPassesThroughAsItself() {
        OutOfMemoryError javaHeap = new OutOfMemoryError("Java heap space (simulated)");
        os.failWith(bytes -> javaHeap);
        os.failing(true);
        assertSame(javaHeap, assertThrows(OutOfMemoryError.class, () -> heap.allocate(1, 0)));
        os.failing(false);
        assertEquals(1, span(heap.allocate(1, 0)).pages);
    }

    @Test
    void closedHeapRefusesWork() {
        heap.close();
        assertThrows(IllegalStateException.class, () -> heap.allocate(1, 0));
    }

    /**
     * The first region's unmap fails: the second region and the native page map are unmapped all the same,
     * and close throws that failure.
     */
    @Test
    void aRegionThatCannotBeUnmappedLeavesTheOtherRegionAndTheNativePageMapToBeUnmapped() {
        List<long[]> regions = twoRegionsWithANativePageMap();
        os.failUnmaps(1);

        IllegalStateException thrown = assertThrows(IllegalStateException.class, heap::close);

        try {
            assertEquals("munmap of 64 MiB failed: errno 22 (simulated)", thrown.getMessage());
            assertEquals(List.of(), List.of(thrown.getSuppressed()), "nothing else failed");
            assertAll(() -> assertEquals(1, os.failedUnmaps.size()),
                    () -> assertArrayEquals(regions.get(0), os.failedUnmaps.get(0), "the first region's unmap failed"),
                    () -> assertEquals(PageHeap.REGION_BYTES, os.mappedBytes.get(),
                            "only the region whose unmap failed is still mapped: the second region and the native page map are not"));
        } finally {
            os.failUnmaps(0);
            os.failedUnmaps.forEach(region -> os.unmap(region[0], region[1]));
        }
    }

    /**
     * Both regions' unmaps fail: the native page map is unmapped all the same, and close throws the first
     * failure with the second suppressed in it.
     */
    @Test
    void closeThrowsTheFirstFailedUnmapWithTheLaterOnesSuppressed() {
        List<long[]> regions = twoRegionsWithANativePageMap();
        os.failUnmaps(2);

        IllegalStateException thrown = assertThrows(IllegalStateException.class, heap::close);

        try {
            assertEquals(2, os.failedUnmaps.size(), "both regions' unmaps were tried");
            assertArrayEquals(regions.get(0), os.failedUnmaps.get(0), "the first region's unmap failed first");
            assertEquals(1, thrown.getSuppressed().length, "the second region's failure");
            assertEquals("munmap of 64 MiB failed: errno 22 (simulated)", thrown.getSuppressed()[0].getMessage());
            assertEquals(2 * PageHeap.REGION_BYTES, os.mappedBytes.get(), "the native page map is not mapped any more");
        } finally {
            os.failUnmaps(0);
            os.failedUnmaps.forEach(region -> os.unmap(region[0], region[1]));
        }
    }

    /** Replaces the heap by one with a native page map and two regions of 64 MiB; returns them, in the order mapped. */
    private List<long[]> twoRegionsWithANativePageMap() {
        heap.close();
        heap = new PageHeap(os, map, new NativePageMap(os), Long.MAX_VALUE, Long.MAX_VALUE, false);
        span(heap.allocate(1, SizeClasses.classFor(64))); // the first region, and a leaf of the native page map
        span(heap.allocate(PageHeap.REGION_BYTES >>> SizeClasses.PAGE_SHIFT, 0)); // more than the first region has left
        List<long[]> regions = heap.regions();
        assertEquals(2, regions.size());
        assertEquals(2 * PageHeap.REGION_BYTES + heap.snapshot().nativePageMapBytes(), os.mappedBytes.get());
        return regions;
    }
}
