package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;

import java.time.Duration;
import java.util.SplittableRandom;

/**
 * The nearest thing Java has to a thread killed inside an allocator call: a {@link StackOverflowError}
 * thrown somewhere in it. Run in a forked JVM (front end and mode from the {@code cpuslab.*} properties):
 * after a warm-up, {@value #ROUNDS} times recurses to the stack limit, backs out 1 to 60 frames and
 * makes {@value #CALLS_PER_ROUND} random {@code malloc}/{@code free} calls there, so most of them die
 * of the overflow at some point inside. Then, back at a normal depth, it checks what a user relies on:
 *
 * <ul>
 *   <li>no call handed out a block overlapping one still live (kept blocks are compared as they come);</li>
 *   <li>another thread's work, {@code releaseMemory()} and {@code close()} all finish (a lock left held
 *       would hang them);</li>
 *   <li>four threads of checked work (patterns written and verified) run clean afterwards;</li>
 *   <li>what stays in use after freeing every kept block: blocks whose {@code free} died (the caller
 *       cannot know whether those were freed, so they are not freed again) and objects a dying slow path
 *       had in hand; printed with the bytes of the abandoned blocks as a figure, not checked.</li>
 * </ul>
 * Prints {@code OK ...} and exits 0, or prints {@code FAILED ...} and exits 1. With the argument
 * {@code large}, three in four allocations are large blocks (256 KiB to 2.3 MiB, half of them aligned to
 * 64 KiB to 1 MiB), so most overflows land in the page heap.
 */
public final class StackOverflowMain {
    private static final int ROUNDS = 3000;
    private static final int CALLS_PER_ROUND = 20;
    private static final int SLOTS = 64;
    private static final long TIMEOUT_SECONDS = 60;

    private static OffHeapAllocator allocator;
    private static final long[] kept = new long[SLOTS];
    private static final long[] keptSizes = new long[SLOTS];
    /** Where each kept block ends, at least one byte past its start (a malloc(0) block is a block too). */
    private static final long[] keptEnds = new long[SLOTS];
    private static final SplittableRandom random = new SplittableRandom(1);
    private static int framesAboveLimit;
    private static boolean largeHeavy;
    private static long calls, overflows, duplicates, abandoned, abandonedBytes;

    private StackOverflowMain() {
    }

    public static void main(String[] args) throws Exception {
        largeHeavy = args.length > 0 && args[0].equals("large");
        allocator = CpuSlab.builder().build();
        FrontEndInfo.Kind frontEnd = allocator.frontEnd().kind();
        for (int i = 0; i < 200_000; i++) {
            allocator.free(allocator.malloc(i % 5000)); // classes initialised and code compiled before the storm
        }
        for (int round = 0; round < ROUNDS; round++) {
            recurse();
        }
        long keptBlocks = 0;
        for (int k = 0; k < SLOTS; k++) {
            if (kept[k] != 0) {
                keptBlocks++;
                allocator.free(kept[k]);
                kept[k] = 0;
            }
        }
        String failure = duplicates > 0 ? duplicates + " block(s) handed out overlapping a live one" : null;
        if (failure == null) {
            failure = within("another thread's work", () -> checkedWork(1, 100_000));
        }
        if (failure == null) {
            failure = within("four threads of checked work", () -> checkedWork(4, 50_000));
        }
        if (failure == null) {
            failure = within("releaseMemory()", allocator::releaseMemory);
        }
        long inUse = allocator.stats().applicationBytes();
        if (failure == null) {
            failure = within("close()", allocator::close);
        }
        String figures = String.format("%s: %d calls, %d died of StackOverflowError; %d frees died (%s asked, not freed again);"
                        + " in use after freeing the %d blocks kept and releaseMemory: %s", frontEnd, calls, overflows, abandoned,
                Bytes.format(abandonedBytes), keptBlocks, Bytes.format(inUse));
        if (overflows < calls / 10) {
            failure = "too few calls died of the overflow to prove anything";
        }
        System.out.println(failure == null ? "OK " + figures : "FAILED " + failure + "; " + figures);
        System.exit(failure == null ? 0 : 1);
    }

    /** Recurses to the limit, then makes the calls a random number of frames above it on the way back. */
    private static void recurse() {
        try {
            recurse();
        } catch (StackOverflowError e) {
            framesAboveLimit = 1 + random.nextInt(60);
            return;
        }
        if (--framesAboveLimit == 0) {
            for (int i = 0; i < CALLS_PER_ROUND; i++) {
                call();
            }
        }
    }

    /**
     * One malloc or free at this depth. Only array stores and compares follow a call that returned, so
     * the bookkeeping cannot itself overflow between the allocator's answer and its record.
     */
    private static void call() {
        calls++;
        int k = random.nextInt(SLOTS);
        long block = kept[k];
        try {
            if (block != 0) {
                kept[k] = 0;
                allocator.free(block);
            } else {
                boolean large = largeHeavy ? random.nextInt(4) != 0 : random.nextInt(3) == 0;
                long size = !large ? random.nextInt(4096) : largeHeavy ? SizeClasses.MAX_SIZE + 1 + random.nextInt(2 << 20) : 300_000;
                long alignment = largeHeavy && large && random.nextBoolean() ? 65536L << random.nextInt(5) : 0;
                long extent = size == 0 ? 1 : size;
                long p = alignment == 0 ? allocator.malloc(size) : allocator.mallocAligned(size, alignment);
                for (int j = 0; j < SLOTS; j++) {
                    duplicates += kept[j] != 0 && kept[j] < p + extent && p < keptEnds[j] ? 1 : 0;
                }
                kept[k] = p;
                keptSizes[k] = size;
                keptEnds[k] = p + extent;
            }
        } catch (StackOverflowError e) {
            overflows++;
            if (block != 0) {
                abandoned++;
                abandonedBytes += keptSizes[k];
            }
        }
    }

    /** Threads allocating, filling, verifying and freeing blocks; throws on a block that was changed under them. */
    private static void checkedWork(int threads, int pairs) throws InterruptedException {
        Thread[] workers = new Thread[threads];
        Throwable[] failed = new Throwable[1];
        for (int t = 0; t < threads; t++) {
            long seed = t;
            workers[t] = Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(seed);
                long[] live = new long[32];
                long[] sizes = new long[32];
                try {
                    for (int i = 0; i < pairs; i++) {
                        int k = r.nextInt(live.length);
                        if (live[k] != 0) {
                            String damage = BlockPattern.check(live[k], sizes[k]);
                            if (damage != null) {
                                throw new AssertionError(damage);
                            }
                            allocator.free(live[k]);
                            live[k] = 0;
                        } else {
                            sizes[k] = 1 + r.nextInt(r.nextInt(8) == 0 ? 300_000 : 4096);
                            live[k] = allocator.malloc(sizes[k]);
                            BlockPattern.fill(live[k], sizes[k]);
                        }
                    }
                    for (long p : live) {
                        allocator.free(p);
                    }
                } catch (Throwable e) {
                    failed[0] = e;
                }
            });
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (failed[0] != null) {
            throw new AssertionError(failed[0]);
        }
    }

    private interface Work {
        void run() throws Exception;
    }

    /** Runs {@code work} on another thread; a description of what went wrong, or null. */
    private static String within(String what, Work work) throws InterruptedException {
        Throwable[] failed = new Throwable[1];
        Thread thread = Thread.ofPlatform().daemon().start(() -> {
            try {
                work.run();
            } catch (Throwable e) {
                failed[0] = e;
            }
        });
        if (!thread.join(Duration.ofSeconds(TIMEOUT_SECONDS))) {
            StringBuilder stack = new StringBuilder();
            for (StackTraceElement frame : thread.getStackTrace()) {
                stack.append("\n    at ").append(frame);
            }
            return what + " did not finish in " + TIMEOUT_SECONDS + " s (a slab left locked?):" + stack;
        }
        return failed[0] == null ? null : what + " failed: " + failed[0];
    }
}
