package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** On this machine's kernel: the page heap's regions really get transparent huge pages when it asks. */
class TransparentHugePagesTest {
    private static final long TOUCHED = 64L << 20;

    @Test
    void anonHugePagesGrowForTheRegionsOfAHugePageAwareHeap() {
        HugePageSupport support = HugePageSupport.decide(CpuSlab.HugePages.AUTO, OsMemory.forThisPlatform());
        assumeTrue(support.inUse(), "transparent huge pages are not available: " + support.reason());
        PageHeap heap = new PageHeap(OsMemory.forThisPlatform(), new PageMap(), null, Long.MAX_VALUE, Long.MAX_VALUE,
                false, true);
        try {
            assertEquals(0, HugePageSupport.anonHugePageBytes(heap.regions()), "nothing mapped yet");
            // Small spans, as the central free lists take them, written as an application writes its blocks.
            for (long bytes = 0; bytes < TOUCHED; bytes += 4 * SizeClasses.PAGE_SIZE) {
                Span span = span(heap.allocate(4, 0));
                MemorySegment.ofAddress(span.start()).reinterpret(span.bytes()).fill((byte) 1);
            }
            long thp = HugePageSupport.anonHugePageBytes(heap.regions());
            System.out.println("AnonHugePages of the regions after writing " + Bytes.format(TOUCHED) + ": " + Bytes.format(thp));
            // The kernel may fail to find a free 2 MiB frame for a few faults; most must be huge.
            assertTrue(thp >= TOUCHED / 2, "AnonHugePages " + thp + " for " + TOUCHED + " bytes written");
            assertTrue(thp <= mapped(heap.regions()), thp + " beyond the regions");
        } finally {
            heap.close();
        }
    }

    @Test
    void nothingOfOtherMappingsIsCounted() {
        assumeTrue(ProcessMemory.available(), "no /proc/self");
        assertEquals(0, HugePageSupport.anonHugePageBytes(List.of()));
        assertEquals(0, HugePageSupport.anonHugePageBytes(List.of(new long[] {0, 4096})), "page 0 is never mapped");
    }

    private static long mapped(List<long[]> regions) {
        return regions.stream().mapToLong(r -> r[1]).sum();
    }
}
