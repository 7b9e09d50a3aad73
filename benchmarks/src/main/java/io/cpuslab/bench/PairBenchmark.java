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

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

/**
 * Single-thread malloc+free of one 64-byte block, side by side: cpuslab on the rseq and the locked
 * front end (unsized and sized free), glibc malloc/free through FFM critical downcalls, and the floor,
 * two empty critical downcalls (libc {@code abs}).
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar PairBenchmark</pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PairBenchmark {
    private static final long SIZE = 64;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final MethodHandle MALLOC = libc("malloc", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = libc("free", FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG));
    private static final MethodHandle ABS = libc("abs", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow(name), descriptor, CRITICAL);
    }

    /** One allocator per front end; JMH runs each benchmark below once per value. */
    @State(Scope.Thread)
    public static class Cpuslab {
        @Param({"RSEQ", "LOCKED"})
        public CpuSlab.FrontEnd frontEnd;
        OffHeapAllocator allocator;

        @Setup(Level.Trial)
        public void open() {
            allocator = CpuSlab.builder().frontEnd(frontEnd).build();
        }

        @TearDown(Level.Trial)
        public void close() {
            allocator.close();
        }
    }

    @Benchmark
    public void cpuslab(Cpuslab s) {
        s.allocator.free(s.allocator.malloc(SIZE));
    }

    @Benchmark
    public void cpuslabSized(Cpuslab s) {
        s.allocator.freeSized(s.allocator.malloc(SIZE), SIZE);
    }

    @Benchmark
    public void glibcMalloc() throws Throwable {
        FREE.invokeExact((long) MALLOC.invokeExact(SIZE));
    }

    /** Two critical downcalls doing nothing: what any FFM allocator pays at least. */
    @Benchmark
    public int emptyDowncallPair() throws Throwable {
        return (int) ABS.invokeExact((int) ABS.invokeExact(-1));
    }
}
