package io.cpuslab.bench;

import io.cpuslab.AllocatorStats;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.tools.Soak;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The application's side of the allocator: where its blocks land decides how often the application's
 * own loads and stores miss the TLB. A live set of {@code liveBytes} in blocks of 64 to 256 B (random
 * sizes in 16-byte steps) is allocated once; each operation then reads one block and writes into it,
 * going from block to block in a random cycle (each block holds the address of the next, so every
 * access waits for the one before, as a lookup in a big hash table or tree does). The score is the
 * nanoseconds per access; the allocator is not called while measuring.
 *
 * <p>Around the measurement the fork prints the allocation phase's time and the RSS, and after freeing
 * half of the blocks at random and releasing (cpuslab's {@code releaseMemory()}) the RSS again, with
 * cpuslab's hugepage counts. cpuslab with and without hugepages are two runs, the setting passed to the
 * forks:
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar LiveSetAccessBenchmark -p peer=cpuslab-rseq,glibc,jemalloc,tcmalloc
 * java -jar benchmarks/target/benchmarks.jar LiveSetAccessBenchmark -p peer=cpuslab-rseq \
 *     -jvmArgsAppend '--enable-native-access=ALL-UNNAMED -Dcpuslab.hugePages=OFF'
 * </pre>
 *
 * (jemalloc needs its library preloaded, as {@code ./cpuslab bench} does for its child JVMs.)
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LiveSetAccessBenchmark extends PeerBenchmark {
    /** Accesses per benchmark call: enough that JMH's own cost per call disappears. */
    static final int ACCESSES = 1024;
    private static final long SEED = 42;
    /** All of memory as one segment: blocks are raw addresses from the peer. */
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** The live set and the cycle through it. */
    @State(Scope.Thread)
    public static class LiveSet {
        @Param("1024")
        public long liveMiB;
        PeerState peerState;
        AddressPeer peer;
        long[] blocks;
        long cursor;

        @Setup(Level.Trial)
        public void allocate(PeerState state) {
            peerState = state;
            peer = state.addressPeer();
            long target = liveMiB << 20;
            SplittableRandom random = new SplittableRandom(SEED);
            long rssBefore = Soak.rssBytes();
            long start = System.nanoTime();
            long[] grown = new long[1 << 20];
            int count = 0;
            for (long bytes = 0; bytes < target; count++) {
                long size = 64 + 16L * random.nextInt(13);
                if (count == grown.length) {
                    grown = Arrays.copyOf(grown, count * 2);
                }
                grown[count] = peer.malloc(size);
                MEMORY.set(ValueLayout.JAVA_LONG, grown[count] + 8, 0);
                bytes += size;
            }
            long allocationNanos = System.nanoTime() - start;
            blocks = Arrays.copyOf(grown, count);
            linkRandomCycle(blocks, random);
            cursor = blocks[0];
            System.out.printf(Locale.ROOT, "%n[live set] %s: %,d blocks (%d MiB) allocated and written in %d ms; RSS +%,d MiB%s%n",
                    state.peer, count, liveMiB, allocationNanos / 1_000_000, (Soak.rssBytes() - rssBefore) >> 20, hugePages());
        }

        /** Frees half of the blocks at random, releases, and prints what stays resident. */
        @TearDown(Level.Trial)
        public void freeHalf() {
            SplittableRandom random = new SplittableRandom(SEED + 1);
            for (int i = blocks.length - 1; i > 0; i--) { // shuffle, then free the first half
                int j = random.nextInt(i + 1);
                long t = blocks[i];
                blocks[i] = blocks[j];
                blocks[j] = t;
            }
            int half = blocks.length / 2;
            for (int i = 0; i < half; i++) {
                peer.free(blocks[i]);
            }
            OffHeapAllocator cpuslab = peer instanceof CpuSlabPeer c ? c.allocator() : null;
            if (cpuslab != null) {
                cpuslab.releaseMemory();
            }
            System.out.printf(Locale.ROOT, "%n[live set] %s: half freed at random%s: RSS %,d MiB%s%n", peerState.peer,
                    cpuslab != null ? " and releaseMemory()" : "", Soak.rssBytes() >> 20, hugePages());
            for (int i = half; i < blocks.length; i++) {
                peer.free(blocks[i]);
            }
            peerState.releaseAddressPeer();
        }

        /** cpuslab's hugepage view, empty for other peers. */
        private String hugePages() {
            if (!(peer instanceof CpuSlabPeer c)) {
                return "";
            }
            AllocatorStats.HugePageStats h = c.allocator().stats().hugePages();
            return String.format(Locale.ROOT, "; hugepages %s: %d full, %d partial, %d free, %d broken; THP-backed %,d MiB",
                    h.inUse() ? "on" : "off", h.full(), h.partial(), h.free(), h.brokenTotal(),
                    c.allocator().transparentHugePageBytes() >> 20);
        }
    }

    /** Each block's first word becomes the address of the next block of a random cycle through all of them. */
    static void linkRandomCycle(long[] blocks, SplittableRandom random) {
        int[] order = new int[blocks.length];
        for (int i = 0; i < order.length; i++) {
            int j = random.nextInt(i + 1); // inside-out Fisher-Yates
            order[i] = order[j];
            order[j] = i;
        }
        for (int i = 0; i < order.length; i++) {
            MEMORY.set(ValueLayout.JAVA_LONG, blocks[order[i]], blocks[order[(i + 1) % order.length]]);
        }
    }

    /** {@link #ACCESSES} steps through the cycle, each reading a block and writing into it. */
    @Benchmark
    @OperationsPerInvocation(ACCESSES)
    public long access(LiveSet s) {
        long p = s.cursor;
        for (int i = 0; i < ACCESSES; i++) {
            MEMORY.set(ValueLayout.JAVA_LONG, p + 8, MEMORY.get(ValueLayout.JAVA_LONG, p + 8) + 1);
            p = MEMORY.get(ValueLayout.JAVA_LONG, p);
        }
        s.cursor = p;
        return p;
    }
}
