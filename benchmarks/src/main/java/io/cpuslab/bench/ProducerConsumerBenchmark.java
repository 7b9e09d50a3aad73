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

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Cross-thread free: in each group one thread allocates 256-byte blocks and hands them over a
 * single-producer single-consumer ring of 1,024 slots to another thread, which frees them. The
 * {@code consume} score is blocks handed over and freed per second; run with 4 threads ({@code -t 4})
 * it is two pairs on one allocator. A thread whose partner is behind spins briefly, then yields (the machine may
 * have fewer cores than threads).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar ProducerConsumerBenchmark -p peer=cpuslab-rseq,glibc -t 4</pre>
 */
public class ProducerConsumerBenchmark extends PeerBenchmark {
    private static final int SIZE = 256;
    private static final int CAPACITY = 1 << 10;
    private static final int SPINS_BEFORE_YIELD = 64;
    // head and tail live 128 bytes apart in one array so the two threads do not share a cache line.
    private static final int HEAD = 16;
    private static final int TAIL = 32;
    private static final VarHandle CURSORS = MethodHandles.arrayElementVarHandle(long[].class);

    /** One producer/consumer pair's ring; the slots hold the blocks in flight. */
    @State(Scope.Group)
    public static class Ring {
        final long[] cursors = new long[TAIL + 16];
        PeerState peer;
        Slots slots;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            peer.requireFreesAnyThread();
            this.peer = peer;
            slots = peer.slots(CAPACITY);
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public void produce(Ring r, Control control) {
        long head = (long) CURSORS.getOpaque(r.cursors, HEAD);
        for (int spins = 0; head - (long) CURSORS.getAcquire(r.cursors, TAIL) == CAPACITY; spins++) {
            if (control.stopMeasurement) {
                return;
            }
            idle(spins);
        }
        r.slots.allocate((int) head & (CAPACITY - 1), SIZE);
        CURSORS.setRelease(r.cursors, HEAD, head + 1);
    }

    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public void consume(Ring r, Control control) {
        long tail = (long) CURSORS.getOpaque(r.cursors, TAIL);
        for (int spins = 0; (long) CURSORS.getAcquire(r.cursors, HEAD) == tail; spins++) {
            if (control.stopMeasurement) {
                return;
            }
            idle(spins);
        }
        r.slots.free((int) tail & (CAPACITY - 1));
        CURSORS.setRelease(r.cursors, TAIL, tail + 1);
    }

    private static void idle(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
