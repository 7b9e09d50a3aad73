package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.SplittableRandom;

/**
 * Netty's {@code ByteBufAllocatorBenchmark} pattern: 8,192 live 256-byte blocks, each operation frees
 * a random one and allocates its replacement (slot numbers from a precomputed table, seed 42, so the
 * random generator is not measured). Freed blocks are rarely the most recent ones, unlike a pair.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar RandomReplacementBenchmark -p peer=cpuslab-rseq,netty-pooled</pre>
 */
public class RandomReplacementBenchmark extends PeerBenchmark {
    private static final int LIVE = 8_192;
    private static final int SIZE = 256;
    private static final int TABLE = 1 << 16;
    private static final long SEED = 42;

    /** One thread's live set. */
    @State(Scope.Thread)
    public static class LiveSet {
        PeerState peer;
        Slots slots;
        final int[] next = new int[TABLE];
        int cursor;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            this.peer = peer;
            slots = peer.slots(LIVE);
            for (int i = 0; i < LIVE; i++) {
                slots.allocate(i, SIZE);
            }
            SplittableRandom random = new SplittableRandom(SEED);
            for (int i = 0; i < TABLE; i++) {
                next[i] = random.nextInt(LIVE);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }
    }

    @Benchmark
    public void replace(LiveSet s) {
        int slot = s.next[s.cursor++ & (TABLE - 1)];
        s.slots.free(slot);
        s.slots.allocate(slot, SIZE);
    }
}
