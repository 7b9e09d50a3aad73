package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Control;

/**
 * Cross-thread free: in each group one thread allocates 256-byte blocks and hands them over a
 * single-producer single-consumer ring of 1,024 slots to another thread, which frees them. The
 * {@code consume} score is blocks handed over and freed per second; run with 4 threads ({@code -t 4})
 * it is two pairs on one allocator. The ring is a {@link HandoffRing}.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar ProducerConsumerBenchmark -p peer=cpuslab-rseq,glibc -t 4</pre>
 */
public class ProducerConsumerBenchmark extends PeerBenchmark {
    private static final int SIZE = 256;
    private static final int CAPACITY = 1 << 10;

    /** One producer/consumer pair's ring; its slots hold the blocks in flight. */
    @State(Scope.Group)
    public static class Ring {
        PeerState peer;
        Slots slots;
        HandoffRing ring;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            peer.requireFreesAnyThread();
            this.peer = peer;
            slots = peer.slots(CAPACITY);
            ring = new HandoffRing(slots);
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public boolean produce(Ring r, Control control) {
        return r.ring.produce(SIZE, control);
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public boolean consume(Ring r, Control control) {
        return r.ring.consume(control);
    }
}
