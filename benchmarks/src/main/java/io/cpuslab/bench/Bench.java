package io.cpuslab.bench;

import io.cpuslab.tools.Machine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code ./cpuslab bench --quick|--full [--workloads ...] [--peers ...]}: runs a plan, prints the
 * side-by-side table, and writes {@code <name>.txt} (the table), {@code <name>.svg} (the chart) and
 * {@code <name>.csv} (every number) into the output directory ({@code -Dcpuslab.bench.out}, default
 * {@code target/cpuslab-bench}).
 *
 * <pre>{@code
 * Results r = Bench.run(Plan.whole("quick", Settings.QUICK, Suite.quick()), Path.of("target/cpuslab-bench"), System.out);
 * }</pre>
 */
public final class Bench {
    /** System property naming the output directory. */
    public static final String OUT_PROPERTY = "cpuslab.bench.out";
    private static final String DEFAULT_OUT = "target/cpuslab-bench";

    private Bench() {
    }

    static Path outputDirectory() {
        return Path.of(System.getProperty(OUT_PROPERTY, DEFAULT_OUT)).toAbsolutePath();
    }

    public static Results run(Plan plan, Path directory, PrintStream out) {
        String name = plan.name();
        out.println("cpuslab bench " + name + ": " + plan.settings().name());
        out.println("machine: " + Machine.describe());
        Results results = new BenchRunner(plan, directory, out).run(Machine.describe());
        String table = ResultTable.render(results);
        out.println();
        out.print(table);
        try {
            Files.createDirectories(directory);
            Files.writeString(directory.resolve(name + ".txt"), table);
            Files.writeString(directory.resolve(name + ".svg"), SvgChart.render(results));
            Files.writeString(directory.resolve(name + ".csv"), ResultTable.csv(results));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results into " + directory, e);
        }
        out.println();
        out.println("chart: " + directory.resolve(name + ".svg"));
        out.println("table: " + directory.resolve(name + ".txt") + ", every number: " + directory.resolve(name + ".csv"));
        return results;
    }
}
