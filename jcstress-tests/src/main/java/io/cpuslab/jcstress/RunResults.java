package io.cpuslab.jcstress;

import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.ReportUtils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a front end's JCStress results files say, per test: how many results (one per JVM
 * configuration and fork), how many samples, and how many results failed (a FORBIDDEN outcome, an
 * error or a timeout). Read back from the files rather than taken from JCStress's exit, which is 0 when
 * nothing ran, so a run resumed after a stop counts the tests it did before the stop too.
 *
 * <pre>RunResults.Totals totals = RunResults.read(Path.of("jcstress-report/rseq")).get(testName);</pre>
 */
final class RunResults {
    /** The name RunAll gives a results file it moved into a report directory. */
    static final String FILE = "results.bin.gz";
    /** The name JCStress gives the results file it writes into its working directory (RunAll's report directory). */
    private static final String JCSTRESS_FILE = "jcstress-results-.*\\.bin\\.gz";

    /** One test's totals. */
    record Totals(int results, long samples, int failed) {
        static final Totals NONE = new Totals(0, 0, 0);

        Totals plus(TestResult result) {
            return plus(new Totals(1, result.getTotalCount(), ReportUtils.statusToPassed(result) ? 0 : 1));
        }

        Totals plus(Totals other) {
            return new Totals(results + other.results, samples + other.samples, failed + other.failed);
        }
    }

    private RunResults() {
    }

    /** Every test with results under {@code directory} (its results file and those of its subdirectories). */
    static Map<String, Totals> read(Path directory) {
        Map<String, Totals> totals = new TreeMap<>();
        for (Path file : files(directory)) {
            for (TestResult result : results(file)) {
                totals.put(result.getName(), totals.getOrDefault(result.getName(), Totals.NONE).plus(result));
            }
        }
        return totals;
    }

    /**
     * Renames the results file JCStress wrote into {@code directory} (it names them
     * {@code jcstress-results-<time>.bin.gz} and writes them until the run ends) to {@link #FILE}, which
     * marks the run there as finished. Does nothing if the run wrote none.
     */
    static void keep(Path directory) throws IOException {
        List<Path> written = written(directory);
        if (!written.isEmpty()) {
            Files.move(written.getLast(), directory.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Deletes the results files of a run in {@code directory} that was stopped before it ended. */
    static void deleteUnfinished(Path directory) throws IOException {
        for (Path file : written(directory)) {
            Files.delete(file);
        }
    }

    /** The results files JCStress wrote into {@code directory}, oldest first. */
    private static List<Path> written(Path directory) throws IOException {
        try (Stream<Path> list = Files.list(directory)) {
            return list.filter(p -> p.getFileName().toString().matches(JCSTRESS_FILE)).sorted(Comparator.comparingLong(RunResults::modified)).toList();
        }
    }

    /** Deletes every results file under {@code directory}, so none from an earlier run is read as this one's. */
    static void delete(Path directory) throws IOException {
        for (Path file : files(directory)) {
            Files.delete(file);
        }
    }

    private static List<Path> files(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(directory)) {
            return walk.filter(p -> p.getFileName().toString().equals(FILE)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Collection<TestResult> results(Path file) {
        InProcessCollector collector = new InProcessCollector();
        try {
            DiskReadCollector reader = new DiskReadCollector(file.toString(), collector);
            try {
                reader.dump();
            } finally {
                reader.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return collector.getTestResults();
    }
}
