package io.cpuslab.bench;

import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * How long a run measures: JMH's forks and iterations, and the footprint run's thread counts.
 *
 * <pre>{@code
 * Settings.QUICK.apply(new OptionsBuilder().include("PairBenchmark"));
 * }</pre>
 *
 * @param name               what the report calls it
 * @param forks              JMH forks per benchmark, or {@link #ANNOTATED} to keep each benchmark's annotations
 * @param warmups            warm-up iterations (ignored when annotated)
 * @param iterationTime      time per warm-up and measured iteration (ignored when annotated)
 * @param iterations         measured iterations (ignored when annotated)
 * @param platformThreads    the footprint run's many platform threads
 * @param virtualThreads     the footprint run's virtual threads
 * @param operationsPerThread the footprint run's malloc+free pairs per thread
 */
public record Settings(String name, int forks, int warmups, TimeValue iterationTime, int iterations,
                       int platformThreads, int virtualThreads, int operationsPerThread) {
    /** Keep the forks and iterations written on each benchmark class. */
    public static final int ANNOTATED = -1;

    /** 1–2 minutes on 2 cores: one fork, short iterations. */
    public static final Settings QUICK = new Settings("quick (1 fork, 2 x 200 ms warm-up, 3 x 200 ms measured)",
            1, 2, TimeValue.milliseconds(200), 3, 1_000, 10_000, 1_000);
    /** JMH's settings as annotated (1 or 2 forks, 3 x 1 s warm-up, 5 x 1 s measured). */
    public static final Settings FULL = new Settings("full (as annotated: 1 fork, 2 for pairs; 3 x 1 s warm-up, 5 x 1 s measured)",
            ANNOTATED, 0, null, 0, 1_000, 10_000, 1_000);
    /** Proves everything runs, measures nothing worth reading (the test). */
    public static final Settings TINY = new Settings("tiny (in process where possible, 1 x 20 ms)",
            0, 0, TimeValue.milliseconds(20), 1, 20, 200, 100);

    /**
     * Applies forks and iterations. A run that must start its own JVM (virtual threads are chosen by
     * a JVM-wide property, a child environment by the JVM's start) gets at least one fork.
     */
    ChainedOptionsBuilder apply(ChainedOptionsBuilder options, boolean needsOwnJvm) {
        if (forks == ANNOTATED) {
            return options;
        }
        return options.forks(needsOwnJvm ? Math.max(1, forks) : forks)
                .warmupIterations(warmups).warmupTime(iterationTime)
                .measurementIterations(iterations).measurementTime(iterationTime);
    }
}
