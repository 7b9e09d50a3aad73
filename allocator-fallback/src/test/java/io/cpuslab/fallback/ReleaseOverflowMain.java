package io.cpuslab.fallback;

import io.cpuslab.core.SlabLayout;

import java.lang.foreign.Arena;

/**
 * For a forked interpreter-only JVM ({@code -Xint}, so every call is a real call that can overflow):
 * runs each operation of the locked front end (push, pop, grow, both batches, a remote owner's
 * {@code whileStopped}) with every amount of stack left, from none upwards, by calling them from the
 * handler of a recursion that overflowed, one frame higher each time. So a {@link StackOverflowError}
 * comes at every call boundary inside them, {@code SlabLayout.owning}'s release store included.
 * Afterwards no shard may be left locked. Prints OK or FAILED.
 */
final class ReleaseOverflowMain {
    private static final int SC = 3;
    private static final int SHARDS = 4;
    private static final SlabLayout.Work SHRINK_AND_GROW = (owned, slab, sc, by) -> {
        int shrunk = owned.shrinkUnused(slab, sc, (int) by);
        return owned.grow(slab, sc, shrunk);
    };
    private static final long[] items = {16, 32};
    private static LockedFrontEnd frontEnd;
    private static long operations;
    private static long overflows;

    private ReleaseOverflowMain() {
    }

    public static void main(String[] args) {
        try (Arena arena = Arena.ofShared()) {
            SlabLayout layout = new SlabLayout(arena.allocate(SHARDS * SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), SHARDS);
            for (int shard = 0; shard < SHARDS; shard++) {
                layout.grow(shard, SC, 100);
            }
            frontEnd = new LockedFrontEnd(layout, "overflow test");
            // Every class and call site used first with stack to spare: an overflow inside a JDK class's
            // initialisation would leave the class unusable, which is not what this checks.
            for (int i = 0; i < 100; i++) {
                operate();
            }
            for (int round = 0; round < 20; round++) {
                dive();
            }
            for (int shard = 0; shard < SHARDS; shard++) {
                if (layout.owning(shard, 1, (owned, slab, sc, arg) -> 0, 0, 0) == SlabLayout.NOT_OWNED) {
                    System.out.println("FAILED: shard " + shard + " left locked after " + overflows + " overflows");
                    System.exit(1);
                }
            }
            System.out.println("OK: no shard left locked after " + operations + " operations and " + overflows + " overflows");
        }
    }

    /** Recurses until the stack is gone; on the way back every frame runs every operation once more. */
    private static void dive() {
        try {
            dive();
        } catch (StackOverflowError e) {
            overflows++;
        }
        try {
            operate();
        } catch (StackOverflowError e) {
            overflows++;
        }
    }

    private static void operate() {
        operations++;
        if (frontEnd.push(SC, 16)) {
            frontEnd.pop(SC);
        }
        operations++;
        int slab = frontEnd.currentSlab();
        frontEnd.grow(slab, SC, 1);
        operations++;
        int pushed = frontEnd.pushBatch(slab, SC, items, 0, items.length);
        operations++;
        frontEnd.popBatch(slab, SC, items, 0, pushed);
        operations++;
        frontEnd.whileStopped(slab, SHRINK_AND_GROW, SC, 1);
    }
}
