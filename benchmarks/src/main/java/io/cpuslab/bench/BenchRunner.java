package io.cpuslab.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormat;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs a plan's workloads for its peers through JMH's Java API, one JMH run per workload and peer (so a
 * peer that needs its own JVM environment gets it, and one failure costs one cell), and prints one
 * progress line per run. Scores come from JMH's result objects, never from its text output.
 *
 * <pre>{@code
 * Results r = new BenchRunner(Plan.whole("quick", Settings.QUICK, Suite.quick()), Path.of("target/cpuslab-bench"), System.out)
 *         .run(Machine.describe());
 * }</pre>
 */
public final class BenchRunner {
    private static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    private static final String VIRTUAL_EXECUTOR = "-Djmh.executor=VIRTUAL";
    private static final String THROUGHPUT_UNIT = "ops/s";
    private static final double NANOS_PER_SECOND = 1e9;
    private static final String JMH_LOCK_HELD = "Unable to acquire the JMH lock";
    private static final long LOCK_WAIT_NANOS = 600_000_000_000L;
    private static final long LOCK_POLL_MILLIS = 2_000;

    private final Plan plan;
    private final Settings settings;
    private final Path directory;
    private final PrintStream out;
    private boolean waitingForLock;

    public BenchRunner(Plan plan, Path directory, PrintStream out) {
        this.plan = plan;
        this.settings = plan.settings();
        this.directory = directory;
        this.out = out;
    }

    /** Checks the plan's peers, runs every workload for those that can run, then the footprint of each if planned. */
    public Results run(String machine) {
        List<Workload> workloads = plan.workloads();
        Map<String, String> skipped = new LinkedHashMap<>();
        List<Peers.Spec> peers = new ArrayList<>();
        for (Peers.Spec spec : plan.peers()) {
            String why = Peers.unavailable(spec);
            if (why == null) {
                peers.add(spec);
            } else {
                skipped.put(spec.name(), why);
                out.println("skipped " + spec.name() + ": " + why);
            }
        }
        Map<String, Map<String, Outcome>> cells = Results.emptyCells();
        int total = 0;
        for (Workload w : workloads) {
            total += w.perPeer() ? peers.size() : 1;
        }
        int done = 0;
        long start = System.nanoTime();
        for (Workload w : workloads) {
            Map<String, Outcome> row = cells.computeIfAbsent(w.key(), k -> new LinkedHashMap<>());
            if (!w.perPeer()) {
                row.put(Results.FLOOR_PEER, measure(w, null));
                progress(++done, total, start, w, Results.FLOOR_PEER, row.get(Results.FLOOR_PEER), null);
                continue;
            }
            // The ratio's peer first, so every later progress line can show its ratio.
            List<Peers.Spec> order = peers.stream().sorted(Comparator.comparing(spec -> !spec.name().equals(w.ratioTo()))).toList();
            for (Peers.Spec spec : order) {
                String excluded = w.excluded().apply(spec);
                Outcome o = excluded == null ? measure(w, spec) : Outcome.notRun("not applicable: " + excluded);
                row.put(spec.name(), o);
                progress(++done, total, start, w, spec.name(), o, row.get(w.ratioTo()));
            }
        }
        Map<String, Footprint.Report> footprints = plan.memory() ? footprints(peers) : Map.of();
        return new Results(machine, settings, List.copyOf(workloads), peers.stream().map(Peers.Spec::name).toList(),
                skipped, cells, footprints);
    }

    /** The memory workload, a child JVM per peer. */
    private Map<String, Footprint.Report> footprints(List<Peers.Spec> peers) {
        Map<String, Footprint.Report> footprints = new LinkedHashMap<>();
        for (Peers.Spec spec : peers) {
            String excluded = Footprint.excluded(spec);
            Footprint.Report r = excluded != null
                    ? new Footprint.Report(spec.name(), null, List.of(), "not applicable: " + excluded)
                    : Footprint.measure(spec, settings, directory);
            footprints.put(spec.name(), r);
            out.println(String.format(Locale.ROOT, "[memory] %-18s %s", spec.name(),
                    r.failure() != null ? r.failure() : ResultTable.footprintLine(r)));
        }
        return footprints;
    }

    /** One JMH run of one workload for one peer (or none, for the floor). */
    Outcome measure(Workload w, Peers.Spec spec) {
        boolean child = spec != null && spec.environment() != null;
        List<String> jvmArgs = w.virtual() ? List.of(NATIVE_ACCESS, VIRTUAL_EXECUTOR) : List.of(NATIVE_ACCESS);
        ChainedOptionsBuilder options = settings.apply(new OptionsBuilder(), child || w.virtual())
                .include(w.include())
                .jvmArgsAppend(jvmArgs.toArray(String[]::new))
                .shouldFailOnError(true);
        options.threads(w.threads());
        if (w.producerConsumer()) {
            options.threadGroups(1, 1);   // per group one producer and one consumer; threads / 2 groups
        }
        if (w.virtual()) {
            // JMH 1.37's synchronised warm-up/warm-down loops hang on virtual threads when there are more
            // threads than carriers (seen with 4 on 2 cores: one thread waits for the next iteration's
            // start while the others wait for its end); unsynchronised iterations run.
            options.syncIterations(false);
        }
        w.params().forEach(options::param);
        if (spec != null) {
            options.param("peer", spec.name());
        }
        if (child) {
            options.jvm(spec.environment().wrapper(directory).toString());
        }
        long waitUntil = System.nanoTime() + LOCK_WAIT_NANOS;
        while (true) {
            try {
                Collection<RunResult> results = new Runner(options.build(), new Silent()).run();
                if (results.size() != 1) {
                    return Outcome.notRun("failed: expected one JMH result, got " + results.size());
                }
                return score(w, results.iterator().next());
            } catch (RunnerException | RuntimeException e) {
                String why = rootCause(e);
                if (!why.contains(JMH_LOCK_HELD) || System.nanoTime() > waitUntil) {
                    return Outcome.notRun("failed: " + why);
                }
                waitForLock();
            }
        }
    }

    /** Another JMH run on this machine holds JMH's lock: its numbers and ours would both suffer. */
    private void waitForLock() {
        if (!waitingForLock) {
            out.println("another JMH run holds JMH's lock (" + System.getProperty("java.io.tmpdir")
                    + "/jmh.lock); waiting for it, at most " + LOCK_WAIT_NANOS / 1_000_000_000L + " s per benchmark");
            waitingForLock = true;
        }
        try {
            Thread.sleep(LOCK_POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for JMH's lock", e);
        }
    }

    private static Outcome score(Workload w, RunResult run) {
        Result<?> r = w.secondary() == null ? run.getPrimaryResult() : run.getSecondaryResults().get(w.secondary());
        if (r == null || !THROUGHPUT_UNIT.equals(r.getScoreUnit())) {
            return Outcome.notRun("failed: no " + THROUGHPUT_UNIT + " result" + (w.secondary() == null ? "" : " for " + w.secondary()));
        }
        double nanos = NANOS_PER_SECOND / r.getScore();
        double error = r.getScoreError();
        return Outcome.measured(nanos, Double.isNaN(error) ? Double.NaN : nanos * error / r.getScore());
    }

    private void progress(int done, int total, long start, Workload w, String peer, Outcome o, Outcome baseline) {
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        out.println(String.format(Locale.ROOT, "[%3d/%d %4d s] %-24s %-18s %s", done, total, seconds, w.label(), peer,
                ResultTable.cell(o, baseline)));
    }

    /** JMH wraps a benchmark's exception; the innermost message is the useful one. */
    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (true) {
            if (t.getCause() != null) {
                t = t.getCause();
            } else if (t.getSuppressed().length > 0) {
                t = t.getSuppressed()[0];
            } else {
                return t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
    }

    /** Discards JMH's text output: the runner prints its own progress line from the result objects. */
    private static final class Silent implements OutputFormat {
        @Override
        public void iteration(BenchmarkParams benchParams, IterationParams params, int iteration) {
        }

        @Override
        public void iterationResult(BenchmarkParams benchParams, IterationParams params, int iteration, IterationResult data) {
        }

        @Override
        public void startBenchmark(BenchmarkParams benchParams) {
        }

        @Override
        public void endBenchmark(BenchmarkResult result) {
        }

        @Override
        public void startRun() {
        }

        @Override
        public void endRun(Collection<RunResult> result) {
        }

        @Override
        public void print(String s) {
        }

        @Override
        public void println(String s) {
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public void verbosePrintln(String s) {
        }

        @Override
        public void write(int b) {
        }

        @Override
        public void write(byte[] b) {
        }
    }
}
