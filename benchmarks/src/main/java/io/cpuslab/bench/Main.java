package io.cpuslab.bench;

import io.cpuslab.tools.Tools;

import java.util.Arrays;
import java.util.Locale;

/**
 * {@code ./cpuslab bench}: measures cpuslab side by side with the allocators people use ({@link Bench});
 * {@code help} lists every workload and peer, and which peers this machine has. The launcher's other
 * jobs ({@code info}, {@code demo}, {@code stress}) are the tools module's, which builds without JMH.
 *
 * <pre>./cpuslab bench --quick --workloads pair-64,bulk-1000 --peers cpuslab-rseq,tcmalloc</pre>
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        switch (command) {
            case "bench" -> bench(args);
            default -> usage(command.equals("help") ? 0 : 2);
        }
    }

    /** The synopsis; with {@code help} (exit 0) also what bench's options do and every name they take. */
    private static void usage(int exit) {
        System.out.println(Tools.SYNOPSIS);
        if (exit != 0) {
            System.exit(exit);
        }
        System.out.println("  bench --quick: the key workloads, short settings; --full: every workload, the benchmarks' own settings");
        System.out.println("  bench --workloads: only these (any of the full suite's, with the mode's settings), and the floor");
        System.out.println("        with any that measures peers: " + String.join(",", Plan.workloadKeys()));
        System.out.println("  bench --peers: only these: " + String.join(",", Peers.all().stream().map(Peers.Spec::name).toList()));
        for (Peers.Spec spec : Peers.all()) {
            String why = Peers.unavailable(spec);
            System.out.printf(Locale.ROOT, "  peer %-18s %s%n", spec.name(), why == null
                    ? (spec.environment() == null ? "available" : "available in a JVM started with " + spec.environment())
                    : "skipped: " + why);
        }
        System.exit(exit);
    }

    /** {@code --quick} (default) or {@code --full}, optionally narrowed to some workloads and peers ({@link Plan#parse}). */
    private static void bench(String[] args) {
        Plan plan = null;
        try {
            plan = Plan.parse(Arrays.asList(args).subList(1, args.length));
        } catch (IllegalArgumentException e) {
            System.out.println("cpuslab bench: " + e.getMessage());
            usage(2);
        }
        Bench.run(plan, Bench.outputDirectory(), System.out);
    }
}
