package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;

/**
 * Allocate 1,000 blocks of 64 B, then free all of them, last-in-first-out or in a random order (fixed
 * seed); one operation is one malloc+free, so the score compares directly with {@link PairBenchmark}.
 * The live set overflows small per-thread or per-CPU caches, so refills and flushes are measured too.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar BatchBenchmark -p peer=cpuslab-rseq,glibc</pre>
 */
public class BatchBenchmark extends PeerBenchmark {
    static final int LIVE = 1_000;
    static final int SIZE = 64;
    private static final long SEED = 42;

    /** One thread's batch and the order it frees in. */
    @State(Scope.Thread)
    public static class Batch {
        @Param({"LIFO", "RANDOM"})
        public String order;
        PeerState peer;
        Slots slots;
        int[] freeOrder;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            this.peer = peer;
            slots = peer.slots(LIVE);
            freeOrder = switch (order) {
                case "LIFO" -> lifo();
                case "RANDOM" -> shuffled();
                default -> throw new IllegalArgumentException("order must be LIFO or RANDOM: " + order);
            };
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }

        private static int[] lifo() {
            int[] order = new int[LIVE];
            for (int i = 0; i < LIVE; i++) {
                order[i] = LIVE - 1 - i;
            }
            return order;
        }

        private static int[] shuffled() {
            int[] order = lifo();
            SplittableRandom random = new SplittableRandom(SEED);
            for (int i = LIVE - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            return order;
        }
    }

    @Benchmark
    @OperationsPerInvocation(LIVE)
    public void batch(Batch b) {
        for (int i = 0; i < LIVE; i++) {
            b.slots.allocate(i, SIZE);
        }
        for (int i = 0; i < LIVE; i++) {
            b.slots.free(b.freeOrder[i]);
        }
    }
}
