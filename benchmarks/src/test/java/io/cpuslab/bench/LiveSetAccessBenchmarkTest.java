package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The live-set benchmark's cycle visits every block once before it comes back, and its accesses write each block. */
class LiveSetAccessBenchmarkTest {

    @Test
    void theCycleVisitsEveryBlockOnceAndAccessesCountInTheBlocks() {
        try (OffHeapAllocator allocator = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.LOCKED).build()) {
            long[] blocks = new long[5000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = allocator.mallocZeroed(64 + 16 * (i % 13));
            }
            LiveSetAccessBenchmark.linkRandomCycle(blocks, new SplittableRandom(1));
            MemorySegment memory = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
            Set<Long> seen = new HashSet<>();
            long p = blocks[0];
            for (int i = 0; i < blocks.length; i++) {
                assertTrue(seen.add(p), "block 0x" + Long.toHexString(p) + " visited twice");
                p = memory.get(ValueLayout.JAVA_LONG, p);
            }
            assertEquals(blocks[0], p, "the cycle closes");

            LiveSetAccessBenchmark.LiveSet set = new LiveSetAccessBenchmark.LiveSet();
            set.cursor = blocks[0];
            new LiveSetAccessBenchmark().access(set);
            long written = 0;
            for (long block : blocks) {
                written += memory.get(ValueLayout.JAVA_LONG, block + 8);
            }
            assertEquals(LiveSetAccessBenchmark.ACCESSES, written, "one write per access");
            for (long block : blocks) {
                allocator.free(block);
            }
        }
    }
}
