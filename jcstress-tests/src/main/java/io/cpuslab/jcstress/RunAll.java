package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import org.openjdk.jcstress.infra.runners.TestList;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Runs every cpuslab JCStress test once per front end and fails unless every test ran and none had a
 * FORBIDDEN outcome or an error. JCStress itself exits 0 when no test matched or no JVM could run
 * them, so this reads the results files back and prints each test's results, samples and failures
 * (also written to {@code summary.txt} in each front end's report directory).
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp jcstress-tests/target/jcstress.jar io.cpuslab.jcstress.RunAll tough report-dir</pre>
 *
 * Modes: {@code ci} (the build's: JCStress's quick preset in one JVM configuration, no split
 * compilation), or any JCStress preset ({@code sanity}, {@code quick}, {@code default}, {@code tough},
 * {@code stress}) in every JVM configuration it detects. A third argument names the variants to run
 * (default: all); any further arguments go to JCStress as they are, e.g. {@code -sc false} to leave out
 * the split-compilation configurations (each actor interpreted, C1 or C2: 9 per test instead of 1).
 * {@code -Dcpuslab.jcstress.tests=REGEX} picks tests by name, e.g. to run one again in a full mode.
 *
 * <p>Full runs take hours, so they run one test at a time, each into {@code <report>/<front end>/<test>},
 * and resume: the same command into the same directory skips tests that already have results and runs
 * the rest. {@link RunRecord} keeps a directory to one build, mode and set of arguments.
 *
 * Variants: {@code locked}, {@code rseq} (compliant) and {@code overlay}, each in JVMs started with its
 * system properties and checked mode on, so a block handed out twice or freed twice throws inside the
 * test and fails it. Overlay mode needs cpuslab's own rseq registration: its JVMs run with
 * {@code GLIBC_TUNABLES=glibc.pthread.rseq=0}, set by a child RunAll that starts them; there the
 * process-wide allocator takes overlay mode and allocators made while it is taken run compliant
 * (frontEnd=AUTO, rseqMode=OVERLAY).
 */
public final class RunAll {
    private static final String TESTS = "io.cpuslab.";
    /** The build's short mode: JCStress's quick preset in a single JVM configuration. */
    private static final String CI_MODE = "ci";
    private static final String TUNABLE = "GLIBC_TUNABLES";
    private static final String OWN_REGISTRATION = "glibc.pthread.rseq=0";
    /** A child's exit code when its variant cannot run here (the reason is printed): not a failure. */
    private static final int SKIPPED = 3;
    /** JCStress's exit code when a test failed: the AssertionError it throws ends its JVM with 1. */
    private static final int JCSTRESS_FAILED = 1;
    /** A test's line in the summary: name, results (JVM configurations x forks), samples, failed results. */
    private static final String NAME = "%-60s";
    private static final String SUMMARY_LINE = NAME + " %5d results %,18d samples %3d failed";
    /**
     * How long one JCStress run may take before it counts as hung ({@link Watchdog}): the build's run of
     * every test takes about 40 s on a 2-core machine; one test of a full run, 16 to 24 min in {@code tough}
     * there, about 65 min with split compilation. {@code -Dcpuslab.jcstress.limitMinutes=N} changes both.
     */
    private static final Duration CI_LIMIT = Duration.ofMinutes(10);
    private static final Duration TEST_LIMIT = Duration.ofHours(4);
    private static final String LIMIT_PROPERTY = "cpuslab.jcstress.limitMinutes";
    /** {@code -Dcpuslab.jcstress.tests=REGEX}: only the tests with a match in their names, e.g. {@code StatsRacing}. */
    private static final String TESTS_PROPERTY = "cpuslab.jcstress.tests";

    /**
     * A front-end configuration: its report directory name, the JVM options that select it, whether its
     * JVMs need cpuslab's own rseq registration, and the builder that proves it can run here.
     */
    private record Variant(String name, String properties, boolean ownRegistration, Supplier<CpuSlab.Builder> probe) {
    }

    private static final List<Variant> VARIANTS = List.of(
            new Variant("locked", "-Dcpuslab.frontEnd=LOCKED", false, () -> CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.LOCKED)),
            new Variant("rseq", "-Dcpuslab.frontEnd=RSEQ", false, () -> CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ)),
            new Variant("overlay", "-Dcpuslab.frontEnd=AUTO -Dcpuslab.rseqMode=OVERLAY", true,
                    () -> CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY)));

    private RunAll() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : CI_MODE;
        Path reports = Path.of(args.length > 1 ? args[1] : "jcstress-report");
        List<String> wanted = args.length > 2 ? List.of(args[2].split(",")) : VARIANTS.stream().map(Variant::name).toList();
        List<String> extra = args.length > 3 ? List.of(args).subList(3, args.length) : List.of();
        String only = System.getProperty(TESTS_PROPERTY);
        Pattern selected = Pattern.compile(only == null ? "" : only);
        List<String> tests = TestList.tests().stream().filter(t -> t.startsWith(TESTS) && selected.matcher(t).find()).sorted().toList();
        if (tests.isEmpty()) {
            System.out.println("cpuslab JCStress FAILED: " + (only == null ? "the jar contains no cpuslab tests (annotation processor not run?)"
                    : "no cpuslab test name matches -D" + TESTS_PROPERTY + "=" + only));
            System.exit(1);
        }
        List<String> failures = new ArrayList<>();
        String mismatch = mode.equals(CI_MODE) ? null : RunRecord.claim(reports, mode, extra);
        if (mismatch != null) {
            System.out.println("cpuslab JCStress: " + mismatch);
            System.exit(1);
        }
        int runs = 0;
        for (Variant variant : VARIANTS) {
            if (!wanted.contains(variant.name())) {
                continue;
            }
            if (variant.ownRegistration() && !OWN_REGISTRATION.equals(System.getenv(TUNABLE))) {
                int exit = child(mode, reports, variant, extra);
                if (exit != 0 && exit != SKIPPED) {
                    failures.add(variant.name() + ": the child run failed (exit " + exit + ")");
                }
                runs += exit == 0 ? 1 : 0;
                continue;
            }
            String unavailable = unavailable(variant);
            if (unavailable != null) {
                System.out.println("cpuslab JCStress: " + variant.name() + " skipped: " + unavailable);
                if (wanted.size() == 1) {
                    System.exit(SKIPPED);
                }
                continue;
            }
            Path report = reports.resolve(variant.name());
            System.out.printf("cpuslab JCStress: %s, mode %s, front end %s, report %s%n", count(tests.size(), "test"), mode,
                    variant.name(), report);
            String jvm = "--enable-native-access=ALL-UNNAMED " + variant.properties() + " -Dcpuslab.checked=true";
            if (mode.equals(CI_MODE)) {
                runAtOnce(report, tests, jvm, extra);
            } else {
                runEach(mode, report, variant.name(), tests, jvm, extra);
            }
            failures.addAll(summarize(report, variant.name() + ", " + mode, tests));
            runs++;
        }
        if (runs == 0) {
            failures.add("no front end could run");
        }
        if (failures.isEmpty()) {
            System.out.printf("cpuslab JCStress: %s x %s ran in mode %s; no forbidden outcome, no error%n",
                    count(tests.size(), "test"), count(runs, "front end"), mode);
            return;
        }
        System.out.println("cpuslab JCStress FAILED:");
        failures.forEach(f -> System.out.println("  " + f));
        System.exit(1);
    }

    /** The build's short run: quick iterations in one JVM configuration, no split compilation, all tests in one JCStress run. */
    private static void runAtOnce(Path report, List<String> tests, String jvm, List<String> extra) throws Exception {
        RunResults.delete(report);
        jcstress(report, limit(CI_LIMIT), List.of("-m", "quick", "-t", exactly(tests), "-jvmArgs", jvm, "-sc", "false"), extra);
    }

    /**
     * A full run: every JVM configuration JCStress detects, our flags prepended, one JCStress run per test
     * into its own report directory, so a run stopped part way goes on from the first test without
     * results when started again.
     */
    private static void runEach(String mode, Path report, String variant, List<String> tests, String jvm, List<String> extra)
            throws Exception {
        for (int i = 0; i < tests.size(); i++) {
            String test = tests.get(i);
            Path dir = report.resolve(test);
            String progress = String.format("cpuslab JCStress [%s %d/%d] %s", variant, i + 1, tests.size(), test);
            if (Files.exists(dir.resolve(RunResults.FILE))) {
                System.out.println(progress + ": done before, results kept");
                continue;
            }
            System.out.println(progress);
            long start = System.nanoTime();
            jcstress(dir, limit(TEST_LIMIT), List.of("-m", mode, "-t", exactly(List.of(test)), "-jvmArgsPrepend", jvm), extra);
            System.out.printf("%s: finished in %d min%n", progress, TimeUnit.NANOSECONDS.toMinutes(System.nanoTime() - start));
        }
    }

    /**
     * Prints each test's totals as its results files under {@code report} give them, writes them to
     * {@code summary.txt} there, and returns what failed: a test without results, or with a failed one.
     */
    static List<String> summarize(Path report, String run, List<String> tests) throws IOException {
        Map<String, RunResults.Totals> totals = RunResults.read(report);
        List<String> failures = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        RunResults.Totals all = RunResults.Totals.NONE;
        for (String test : tests) {
            RunResults.Totals t = totals.get(test);
            if (t == null) {
                failures.add(run + ": " + test + " did not run");
                lines.add(String.format(NAME + " did not run", test));
                continue;
            }
            if (t.failed() > 0) {
                failures.add(String.format("%s: %s: %d of %d results failed (report %s)", run, test, t.failed(), t.results(), report));
            }
            lines.add(String.format(SUMMARY_LINE, test, t.results(), t.samples(), t.failed()));
            all = all.plus(t);
        }
        lines.add(String.format(SUMMARY_LINE, "all (" + run + ")", all.results(), all.samples(), all.failed()));
        lines.forEach(System.out::println);
        Files.createDirectories(report);
        Files.write(report.resolve("summary.txt"), lines);
        return failures;
    }

    /**
     * Runs JCStress with {@code options} and the user's {@code extra} ones in a JVM of its own, working in
     * and reporting into {@code report}, and keeps the results file it writes there as
     * {@link RunResults#FILE} once it has ended. Its own JVM because JCStress keeps state between runs in
     * one JVM: the second run there repeats every JVM configuration twice, the third three times. Its exit
     * code is not a verdict (a failing test makes it 1, nothing run leaves it 0): the results are read
     * back instead. Any other exit (the JVM crashed or was killed, or it ran past {@code limit} and the
     * {@link Watchdog} killed it) keeps nothing, so the test counts as not run and a resumed run does it again.
     */
    private static void jcstress(Path report, Duration limit, List<String> options, List<String> extra) throws Exception {
        Files.createDirectories(report);
        RunResults.deleteUnfinished(report);
        List<String> command = jvm("org.openjdk.jcstress.Main");
        command.addAll(options);
        command.addAll(List.of("-r", report.toAbsolutePath().toString()));
        command.addAll(extra);
        int exit = Watchdog.run(new ProcessBuilder(command).directory(report.toFile()).inheritIO(), limit, report);
        if (exit == 0 || exit == JCSTRESS_FAILED) {
            RunResults.keep(report);
        } else {
            String end = exit == Watchdog.TIMED_OUT ? "JCStress hung" : "JCStress ended with exit code " + exit;
            System.out.println("cpuslab JCStress: " + end + "; its results in " + report + " are not kept");
        }
    }

    /** "1 test", "9 tests". */
    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** A JCStress test filter matching these test names and no other (JCStress's {@code -t} finds a regex in a name). */
    private static String exactly(List<String> tests) {
        return tests.stream().map(Pattern::quote).collect(Collectors.joining("|", "^(", ")$"));
    }

    private static Duration limit(Duration otherwise) {
        Long minutes = Long.getLong(LIMIT_PROPERTY);
        return minutes != null ? Duration.ofMinutes(minutes) : otherwise;
    }

    /** Runs {@code variant} in a child RunAll whose environment gives cpuslab its own rseq registration. */
    private static int child(String mode, Path reports, Variant variant, List<String> extra) throws Exception {
        List<String> command = jvm(RunAll.class.getName());
        for (String property : List.of(LIMIT_PROPERTY, TESTS_PROPERTY)) {
            String value = System.getProperty(property);
            if (value != null) {
                command.add(command.size() - 1, "-D" + property + "=" + value);
            }
        }
        command.addAll(List.of(mode, reports.toString(), variant.name()));
        command.addAll(extra);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put(TUNABLE, OWN_REGISTRATION);
        return builder.start().waitFor();
    }

    /**
     * The command line starting {@code mainClass} in a JVM like this one: same java, class path and native
     * access. The class path is made absolute: JCStress's JVMs work in their report directories.
     */
    private static List<String> jvm(String mainClass) {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(entry -> Path.of(entry).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator));
        return new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", classPath, mainClass));
    }

    private static String unavailable(Variant variant) {
        try {
            variant.probe().get().build().close();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
