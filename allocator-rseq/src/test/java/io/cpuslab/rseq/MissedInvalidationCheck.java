package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.SlabLayout;

import java.lang.foreign.Arena;

import static io.cpuslab.rseq.TestSlabs.check;

/**
 * For a JVM pinned to CPU 0 with its own rseq registration, on a machine with more than one online CPU
 * (with one, membarrier sends no IPI at all): proves that a fence of this CPU invalidates this thread's
 * cached overlay slab (what overlay mode relies on), then simulates Linux 6.19, which does not,
 * by putting the cached word back, and shows the result: a push that commits into a stopped slab.
 * Exits 1 if the kernel did not invalidate or if the simulated failure did not happen.
 */
final class MissedInvalidationCheck {
    private static final int SC = 4;
    private static final int ATTEMPTS = 1000;

    private MissedInvalidationCheck() {
    }

    public static void main(String[] args) {
        try (Arena arena = Arena.ofShared()) {
            SlabLayout layout = TestSlabs.onEveryCpu(arena);
            OverlayFrontEnd frontEnd = new OverlayFrontEnd(layout, CpuSlab.Index.CPU, "6.19 simulation");
            SelfCheckHooks.slabWord(); // loads the hooks now: class loading blocks, and blocking invalidates
            int slab = frontEnd.currentSlab();
            check(slab == 0, "pinned to CPU 0 but on slab " + slab);
            check(frontEnd.grow(slab, SC, 8) == 8, "grow");
            long word = 0;
            for (int attempt = 0; attempt < ATTEMPTS && (word & SelfCheckHooks.OVERLAY_TAG) == 0; attempt++) {
                frontEnd.currentSlab(); // any preemption since invalidates again
                word = SelfCheckHooks.slabWord();
            }
            check((word & SelfCheckHooks.OVERLAY_TAG) != 0, "no tagged slab word after " + ATTEMPTS + " re-caches");

            // Core's stop, taken apart: the stop word, then the fence (whileStopped would also drop this
            // thread's word itself, and the point here is that the kernel's rewrite does). No other thread
            // works on the slabs here, so nobody needs to own the slab.
            layout.stopFastPath(slab);
            frontEnd.fence(slab);
            boolean invalidated = (SelfCheckHooks.slabWord() & SelfCheckHooks.OVERLAY_TAG) == 0;
            System.out.println("fence invalidated the cached slab: " + (invalidated ? "yes" : "NO"));
            check(invalidated, "this kernel did not clear the tag on a fence: overlay mode would be unsafe here");
            check(!frontEnd.push(SC, 32), "a push went through after the fence");

            int attempt = 0;
            boolean pushed = false;
            while (!pushed && attempt++ < ATTEMPTS) { // a preemption in between clears the tag again
                pushed = SelfCheckHooks.restoreSlabWord(frontEnd, word) && frontEnd.push(SC, 48);
            }
            int cached = layout.capacity(slab, SC);
            layout.startFastPath(slab);
            check(pushed, "no push into the stopped slab in " + ATTEMPTS + " attempts");
            System.out.println("MISSED INVALIDATION DETECTED: a push committed into stopped slab " + slab
                    + " (attempt " + attempt + ", capacity " + cached + ")");
            frontEnd.close();
        }
    }
}
