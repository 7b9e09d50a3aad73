package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A diagnostic, not part of the suite: malloc+free of 64 bytes on the rseq front end, where every
 * operation gets the same block back from the same slot of the CPU cache. {@code held} blocks are taken
 * (and kept) first, which moves the pair to another block and slot; pin the JVM to one CPU so the
 * thread stays on one slab. It shows that the unsized free's per-JVM modes follow which block is
 * cycled (README, "Where the first pair measurement went").
 *
 * <pre>taskset -c 0 java -jar benchmarks/target/benchmarks.jar SingleBlockBenchmark -p held=0,1,2,3</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SingleBlockBenchmark {
    private static final long SIZE = 64;

    /** The allocator in a state object of its own, as in the first pair benchmark (the layout matters here). */
    @State(Scope.Thread)
    public static class Allocator {
        /** Blocks taken before the measurement; 0 cycles the first block of the class's first span. */
        @Param({"0", "1"})
        public int held;
        OffHeapAllocator allocator;

        @Setup(Level.Trial)
        public void open() {
            allocator = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build();
            for (int i = 0; i < held; i++) {
                allocator.malloc(SIZE); // kept: close() unmaps it with the rest
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            allocator.close();
        }
    }

    @Benchmark
    public void unsizedFree(Allocator s) {
        s.allocator.free(s.allocator.malloc(SIZE));
    }

    @Benchmark
    public void sizedFree(Allocator s) {
        s.allocator.freeSized(s.allocator.malloc(SIZE), SIZE);
    }
}
