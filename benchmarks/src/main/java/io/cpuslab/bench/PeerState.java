package io.cpuslab.bench;

import io.netty.buffer.ByteBufAllocator;
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
    private int liveSlots;
    private boolean closeRequested;

    @Setup(Level.Trial)
    public void open() {
        opened = Peers.open(peer);
    }

    /**
     * JMH may tear this state down before another thread group has torn down its own states (seen with
     * two producer/consumer groups), so the peer closes only once the last {@link Slots} is released.
     */
    @TearDown(Level.Trial)
    public synchronized void close() {
        closeRequested = true;
        closeWhenUnused();
    }

    /** Fails when the peer's blocks may not be freed by another thread than the allocating one. */
    void requireFreesAnyThread() {
        if (!Peers.spec(peer).freesAnyThread()) {
            throw new PeerUnavailableException(peer + " cannot free a block on another thread");
        }
    }

    /** Fails when the peer has no free that takes the block's size (the sized-free pair would measure an ordinary one). */
    void requireFreesSized() {
        if (!Peers.spec(peer).freesSized()) {
            throw new PeerUnavailableException(peer + " has no sized free");
        }
    }

    /** The peer's Netty allocator, for benchmarks that run Netty channels; fails for any other peer. */
    ByteBufAllocator nettyAllocator() {
        if (!(opened instanceof NettyPeer netty)) {
            throw new PeerUnavailableException(peer + " is not a Netty ByteBufAllocator");
        }
        return netty.allocator();
    }

    /** Slots on the peer; give them back with {@link #release}. */
    synchronized Slots slots(int capacity) {
        liveSlots++;
        return opened.slots(capacity);
    }

    /** Frees what the slots still hold and, if the trial is over and they were the last, closes the peer. */
    synchronized void release(Slots slots) {
        slots.close();
        liveSlots--;
        closeWhenUnused();
    }

    private void closeWhenUnused() {
        if (closeRequested && liveSlots == 0 && opened != null) {
            opened.close();
            opened = null;
        }
    }
}
