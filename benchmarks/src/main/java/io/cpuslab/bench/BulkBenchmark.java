package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link BatchBenchmark}'s LIFO batch (1,000 blocks of 64 B allocated, then all freed) through
 * {@link Slots#allocateRange} and {@link Slots#freeRange}: a peer with bulk calls (cpuslab's
 * {@code mallocBulk}/{@code freeBulk}) makes one call each per batch, every other peer one call per block
 * as in the LIFO batch. One operation is one block's malloc+free, so the score compares directly with
 * the batch and shows what the bulk calls buy.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar BulkBenchmark -p peer=cpuslab-rseq,tcmalloc</pre>
 */
public class BulkBenchmark extends PeerBenchmark {
    /** One thread's batch. */
    @State(Scope.Thread)
    public static class Batch {
        PeerState peer;
        Slots slots;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            this.peer = peer;
            slots = peer.slots(BatchBenchmark.LIVE);
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }
    }

    @Benchmark
    @OperationsPerInvocation(BatchBenchmark.LIVE)
    public void bulk(Batch b) {
        b.slots.allocateRange(0, BatchBenchmark.LIVE, BatchBenchmark.SIZE);
        b.slots.freeRange(0, BatchBenchmark.LIVE);
    }
}
