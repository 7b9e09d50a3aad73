package io.cpuslab.bench;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The JMH settings every peer benchmark inherits (JMH's class annotations are {@code @Inherited}):
 * throughput in operations per second, so that several threads add up, 3 × 1 s warm-up, 5 × 1 s
 * measured, one fork with native access. A subclass overrides what it must.
 *
 * <pre>{@code
 * public class MyBenchmark extends PeerBenchmark { @Benchmark public void op(...) { ... } }
 * }</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public abstract class PeerBenchmark {
}
