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
    /** Slots and address users not yet released: the peer stays open while there are any. */
    private int users;
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

    /**
     * The peer's raw-address calls, for benchmarks that work on the blocks' contents; fails for a peer that
     * hands out no addresses. Give it back with {@link #releaseAddressPeer}.
     */
    synchronized AddressPeer addressPeer() {
        if (!(opened instanceof AddressPeer addresses)) {
            throw new PeerUnavailableException(peer + " hands out no raw addresses");
        }
        users++;
        return addresses;
    }

    /** Done with {@link #addressPeer}: if the trial is over and nothing else uses the peer, it closes. */
    synchronized void releaseAddressPeer() {
        users--;
        closeWhenUnused();
    }

    /** Slots on the peer; give them back with {@link #release}. */
    synchronized Slots slots(int capacity) {
        users++;
        return opened.slots(capacity);
    }

    /** Frees what the slots still hold and, if the trial is over and they were the last, closes the peer. */
    synchronized void release(Slots slots) {
        slots.close();
        users--;
        closeWhenUnused();
    }

    private void closeWhenUnused() {
        if (closeRequested && users == 0 && opened != null) {
            opened.close();
            opened = null;
        }
    }
}
