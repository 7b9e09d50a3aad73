package io.cpuslab.jcstress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.collectors.DiskWriteCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.runners.TestConfig;
import org.openjdk.jcstress.infra.runners.TestList;
import org.openjdk.jcstress.os.AffinityMode;
import org.openjdk.jcstress.os.NodeType;
import org.openjdk.jcstress.os.SchedulingClass;
import org.openjdk.jcstress.util.Environment;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RunAll's verdict on a front end's results, from results files written the way JCStress writes them:
 * the build fails on a FORBIDDEN outcome, an errored result or a test that did not run, and only then.
 */
class RunAllVerdictTest {
    /** A test whose outcome "true" is ACCEPTABLE and "false" (one block handed out twice) FORBIDDEN. */
    private static final String TEST = AllocationIsExclusive.class.getName();
    private static final List<String> TESTS = List.of(TEST);
    private static final String RUN = "rseq, test";

    @Test
    void acceptableOutcomesPassAndTheSummaryCountsThem(@TempDir Path report) throws Exception {
        write(report, result(Status.NORMAL, Map.of("true", 1_000L)), result(Status.NORMAL, Map.of("true", 500L)));
        assertEquals(List.of(), RunAll.summarize(report, RUN, TESTS));
        List<String> summary = Files.readAllLines(report.resolve("summary.txt"));
        assertTrue(summary.getFirst().matches(".*AllocationIsExclusive +2 results +1,500 samples +0 failed"), summary.getFirst());
    }

    @Test
    void oneForbiddenOutcomeFailsTheRun(@TempDir Path report) throws Exception {
        write(report, result(Status.NORMAL, Map.of("true", 1_000L)), result(Status.NORMAL, Map.of("true", 999L, "false", 1L)));
        List<String> failures = RunAll.summarize(report, RUN, TESTS);
        assertEquals(1, failures.size());
        assertTrue(failures.getFirst().contains("1 of 2 results failed"), failures.getFirst());
    }

    @Test
    void anErroredResultFailsTheRunEvenWithAcceptableSamples(@TempDir Path report) throws Exception {
        write(report, result(Status.TEST_ERROR, Map.of("true", 1_000L)));
        List<String> failures = RunAll.summarize(report, RUN, TESTS);
        assertEquals(1, failures.size());
        assertTrue(failures.getFirst().contains("1 of 1 results failed"), failures.getFirst());
    }

    @Test
    void aTestWithoutResultsFailsTheRun(@TempDir Path report) throws Exception {
        List<String> failures = RunAll.summarize(report, RUN, TESTS);
        assertEquals(List.of(RUN + ": " + TEST + " did not run"), failures);
    }

    /** One result of {@link #TEST}: a JVM configuration's fork with these outcome counts. */
    private static TestResult result(Status status, Map<String, Long> outcomes) throws Exception {
        Options options = new Options(new String[] {"-m", "sanity"});
        options.parse();
        SchedulingClass scheduling = new SchedulingClass(AffinityMode.NONE, 2, NodeType.PACKAGE);
        TestResult result = new TestResult(status);
        result.setConfig(new TestConfig(options, TestList.getInfo(TEST), 0, List.of(), 0, scheduling));
        result.setEnv(new Environment());
        outcomes.forEach(result::addState);
        return result;
    }

    /** Writes {@code results} as RunAll keeps a finished JCStress run's: one results file in the test's directory. */
    private static void write(Path report, TestResult... results) throws Exception {
        Path dir = Files.createDirectories(report.resolve(TEST));
        DiskWriteCollector writer = new DiskWriteCollector(dir.resolve(RunResults.FILE).toString());
        for (TestResult result : results) {
            writer.add(result);
        }
        writer.close();
    }
}
