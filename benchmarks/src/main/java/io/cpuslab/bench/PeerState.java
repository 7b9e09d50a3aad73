package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The peer under measurement, one per trial, shared by all benchmark threads. The {@code peer}
 * parameter has no default on purpose: the runner ({@code ./cpuslab bench}) passes the peers that can
 * run here, and a direct JMH run names them with {@code -p peer=glibc,cpuslab-rseq}.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar PairBenchmark.pair -p peer=cpuslab-rseq,glibc -p size=64</pre>
 */
@State(Scope.Benchmark)
public class PeerState {
    @Param({})
    public String peer;
    private Peer opened;

    @Setup(Level.Trial)
    public void open() {
        opened = Peers.open(peer);
    }

    @TearDown(Level.Trial)
    public void close() {
        opened.close();
    }

    /** Fails when the peer's blocks may not be freed by another thread than the allocating one. */
    void requireFreesAnyThread() {
        if (!Peers.spec(peer).freesAnyThread()) {
            throw new PeerUnavailableException(peer + " cannot free a block on another thread");
        }
    }

    Slots slots(int capacity) {
        return opened.slots(capacity);
    }
}
