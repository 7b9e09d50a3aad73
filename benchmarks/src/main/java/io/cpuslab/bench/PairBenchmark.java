package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Same-thread malloc+free of one block per operation, for every peer and size; run with more threads
 * (platform or virtual) it is the many-thread workload. {@code pairSized} frees with the block's size
 * (cpuslab's {@code freeSized}, jemalloc's {@code sdallocx}, TCMalloc's {@code tc_free_sized}, mimalloc's
 * {@code mi_free_size}); a peer without a sized free fails it. {@code emptyDowncallPair} is the floor any
 * FFM allocator pays: two critical downcalls doing nothing (libc {@code abs}).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar 'PairBenchmark' -p peer=cpuslab-rseq,glibc -p size=64</pre>
 */
// Two forks: the rseq front end's unsized free has been seen bimodal between forks.
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PairBenchmark extends PeerBenchmark {
    private static final MethodHandle ABS = NativeMallocPeer.critical(Linker.nativeLinker().defaultLookup(), "abs",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** One thread's slot. */
    @State(Scope.Thread)
    public static class One {
        @Param({"16", "64", "256", "1024", "4096", "32768"})
        public int size;
        PeerState peer;
        Slots slots;

        @Setup(Level.Trial)
        public void open(PeerState peer) {
            this.peer = peer;
            slots = peer.slots(1);
        }

        @TearDown(Level.Trial)
        public void close() {
            peer.release(slots);
        }
    }

    /** One thread's slot on a peer that has a sized free. */
    @State(Scope.Thread)
    public static class Sized extends One {
        @Setup(Level.Trial)
        public void requireFreesSized(PeerState peer) {
            peer.requireFreesSized();
        }
    }

    @Benchmark
    public void pair(One t) {
        t.slots.allocate(0, t.size);
        t.slots.free(0);
    }

    @Benchmark
    public void pairSized(Sized t) {
        t.slots.allocate(0, t.size);
        t.slots.freeSized(0, t.size);
    }

    /** Two critical downcalls doing nothing: what any FFM allocator pays at least. */
    @Benchmark
    public int emptyDowncallPair() throws Throwable {
        return (int) ABS.invokeExact((int) ABS.invokeExact(-1));
    }
}
