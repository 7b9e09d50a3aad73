package io.cpuslab.fallback;

import io.cpuslab.core.SlabLayout;
import io.cpuslab.core.SlabLock;

import java.lang.foreign.Arena;

/**
 * For a forked interpreter-only JVM ({@code -Xint}, so every call is a real call that can overflow):
 * runs the locked front end's push and pop with every amount of stack left, from none upwards, by
 * calling them from the handler of a recursion that overflowed, one frame higher each time. So a
 * {@link StackOverflowError} comes at every call boundary inside them, the release store's included
 * ({@code SlabLock}, "The release store"). Afterwards no shard may be left locked. Prints OK or FAILED.
 */
final class ReleaseOverflowMain {
    private static final int SC = 3;
    private static final int SHARDS = 4;
    private static LockedFrontEnd frontEnd;
    private static long pushes;
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
                frontEnd.push(SC, 16);
                frontEnd.pop(SC);
            }
            for (int round = 0; round < 20; round++) {
                dive();
            }
            for (int shard = 0; shard < SHARDS; shard++) {
                SlabLock lock = layout.tryLock(shard);
                if (lock == null) {
                    System.out.println("FAILED: shard " + shard + " left locked after " + overflows + " overflows");
                    System.exit(1);
                }
                lock.held = 0;
            }
            System.out.println("OK: no shard left locked after " + pushes + " pushes and " + overflows + " overflows");
        }
    }

    /** Recurses until the stack is gone; on the way back every frame pushes and pops once more. */
    private static void dive() {
        try {
            dive();
        } catch (StackOverflowError e) {
            overflows++;
        }
        try {
            if (frontEnd.push(SC, 16)) {
                pushes++;
                frontEnd.pop(SC);
            }
        } catch (StackOverflowError e) {
            overflows++;
        }
    }
}
