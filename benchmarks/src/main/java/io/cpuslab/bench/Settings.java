package io.cpuslab.bench;

import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Locale;

/**
 * How long a run measures: JMH's forks and iterations, and the footprint run's thread counts.
 *
 * <pre>{@code
 * Settings.QUICK.apply(new OptionsBuilder().include("PairBenchmark"), false);
 * }</pre>
 *
 * @param name               what the report calls it, with the numbers
 * @param forks              JMH forks per benchmark, or {@link #ANNOTATED} to keep each benchmark's annotations
 * @param warmups            warm-up iterations (ignored when annotated)
 * @param warmupTime         time per warm-up iteration (ignored when annotated)
 * @param iterations         measured iterations (ignored when annotated)
 * @param measurementTime    time per measured iteration (ignored when annotated)
 * @param platformThreads    the footprint run's many platform threads
 * @param virtualThreads     the footprint run's virtual threads
 * @param operationsPerThread the footprint run's malloc+free pairs per thread
 */
public record Settings(String name, int forks, int warmups, TimeValue warmupTime, int iterations, TimeValue measurementTime,
                       int platformThreads, int virtualThreads, int operationsPerThread) {
    /** Keep the forks and iterations written on each benchmark class. */
    public static final int ANNOTATED = -1;
    private static final int FOOTPRINT_PLATFORM_THREADS = 1_000;
    private static final int FOOTPRINT_VIRTUAL_THREADS = 10_000;
    private static final int FOOTPRINT_OPERATIONS = 1_000;

    /**
     * {@code bench --quick}: the one place its forks and iterations are set (the printout, table and chart
     * name them from here). Two forks, because a JVM can settle at a speed of its own: with one, ratios
     * moved by up to 30% between two runs on 2 cores; with two, those of the quick workloads stayed within
     * 15%. Warm-up long enough for the fast paths' compilation (about 2 s).
     */
    public static final Settings QUICK = timed("quick", 2, 2, TimeValue.seconds(1), 5, TimeValue.milliseconds(400));
    /** JMH's settings as annotated (1 or 2 forks, 3 x 1 s warm-up, 5 x 1 s measured). */
    public static final Settings FULL = new Settings("full (as annotated: 1 fork, 2 for pairs; 3 x 1 s warm-up, 5 x 1 s measured)",
            ANNOTATED, 0, null, 0, null, FOOTPRINT_PLATFORM_THREADS, FOOTPRINT_VIRTUAL_THREADS, FOOTPRINT_OPERATIONS);
    /**
     * Proves everything runs, measures nothing worth reading (the test). Three iterations: JMH gives a
     * score no error from fewer than three measured iterations in all (forks times iterations).
     */
    public static final Settings TINY = new Settings("tiny (in process where possible, 3 x 20 ms)",
            0, 0, TimeValue.milliseconds(20), 3, TimeValue.milliseconds(20), 20, 200, 100);

    /** Forks and iterations that name themselves: {@code quick (2 forks, 3 x 1 s warm-up, 4 x 500 ms measured)}. */
    static Settings timed(String mode, int forks, int warmups, TimeValue warmupTime, int iterations, TimeValue measurementTime) {
        String name = String.format(Locale.ROOT, "%s (%d fork%s, %d x %s warm-up, %d x %s measured)", mode, forks,
                forks == 1 ? "" : "s", warmups, warmupTime, iterations, measurementTime);
        return new Settings(name, forks, warmups, warmupTime, iterations, measurementTime,
                FOOTPRINT_PLATFORM_THREADS, FOOTPRINT_VIRTUAL_THREADS, FOOTPRINT_OPERATIONS);
    }

    /**
     * Applies forks and iterations. A run that must start its own JVM (virtual threads are chosen by
     * a JVM-wide property, a child environment by the JVM's start) gets at least one fork.
     */
    ChainedOptionsBuilder apply(ChainedOptionsBuilder options, boolean needsOwnJvm) {
        if (forks == ANNOTATED) {
            return options;
        }
        return options.forks(needsOwnJvm ? Math.max(1, forks) : forks)
                .warmupIterations(warmups).warmupTime(warmupTime)
                .measurementIterations(iterations).measurementTime(measurementTime);
    }
}
