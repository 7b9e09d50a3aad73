package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.SlabLayout;

import java.lang.foreign.Arena;

import static io.cpuslab.rseq.TestSlabs.check;

/**
 * For a JVM pinned to CPU 0 ({@code taskset -c 0}): every slow-path call naming slab 1 must miss and
 * change nothing, every call naming slab 0 must act. Exits 1 with the first violation.
 */
final class ExpectedSlabCheck {
    private static final int SC = 4;

    private ExpectedSlabCheck() {
    }

    public static void main(String[] args) {
        try (Arena arena = Arena.ofShared()) {
            SlabLayout layout = TestSlabs.onEveryCpu(arena);
            RseqFrontEnd frontEnd = new RseqFrontEnd(layout, CpuSlab.Index.CPU, "check");
            long[] items = {16, 32, 48};
            for (int i = 0; i < 10_000; i++) {
                check(frontEnd.currentSlab() == 0, "pinned to CPU 0 but on slab " + frontEnd.currentSlab());
                check(frontEnd.grow(1, SC, 8) == 0, "grow named slab 1 and acted");
                check(frontEnd.pushBatch(1, SC, items, 0, 3) == 0, "pushBatch named slab 1 and acted");
                check(frontEnd.popBatch(1, SC, items, 0, 3) == 0, "popBatch named slab 1 and acted");
                check(layout.capacity(1, SC) == 0, "slab 1 changed");
            }
            check(frontEnd.grow(0, SC, 8) == 8, "grow of slab 0");
            check(frontEnd.pushBatch(0, SC, items, 0, 3) == 3, "pushBatch on slab 0");
            check(frontEnd.popBatch(0, SC, new long[3], 0, 3) == 3, "popBatch on slab 0");
            frontEnd.close();
        }
        System.out.println("EXPECTED SLAB OK");
    }
}
