package io.cpuslab.rseq;

import io.cpuslab.core.SlabLayout;

import java.lang.foreign.Arena;

/**
 * Slab memory for front-end tests that build a front end directly: one slab per possible CPU (the rseq
 * provider's count), from a test's arena.
 */
final class TestSlabs {
    private TestSlabs() {
    }

    static SlabLayout onEveryCpu(Arena arena) {
        int slabs = RseqFrontEndProvider.possibleCpus();
        return new SlabLayout(arena.allocate((long) slabs << SlabLayout.SHIFT, SlabLayout.SLAB_BYTES), slabs);
    }

    /** For main classes run in a forked JVM: prints the failed check and exits 1. */
    static void check(boolean ok, String what) {
        if (!ok) {
            System.out.println("FAILED: " + what);
            System.exit(1);
        }
    }
}
