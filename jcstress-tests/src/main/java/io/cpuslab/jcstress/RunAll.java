package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import org.openjdk.jcstress.infra.runners.TestList;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs every cpuslab JCStress test once per front end and fails unless every test ran and none had a
 * FORBIDDEN outcome or an error. JCStress itself exits 0 when no test matched or no JVM could run
 * them, so this checks that each test wrote its report page.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp jcstress-tests/target/jcstress.jar io.cpuslab.jcstress.RunAll tough report-dir</pre>
 *
 * Modes: {@code ci} (the build's: JCStress's quick preset in one JVM configuration, no split
 * compilation), or any JCStress
 * preset ({@code sanity}, {@code quick}, {@code default}, {@code tough}, {@code stress}) in every JVM
 * configuration it detects.
 *
 * Each front end's tests run in JVMs started with {@code -Dcpuslab.frontEnd=LOCKED|RSEQ} and checked
 * mode on, so a block handed out twice or freed twice throws inside the test and fails it.
 */
public final class RunAll {
    private static final String TESTS = "io.cpuslab.";
    /** The build's short mode: JCStress's quick preset in a single JVM configuration. */
    private static final String CI_MODE = "ci";

    private RunAll() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : CI_MODE;
        Path reports = Path.of(args.length > 1 ? args[1] : "jcstress-report");
        List<String> tests = TestList.tests().stream().filter(t -> t.startsWith(TESTS)).sorted().toList();
        List<String> failures = new ArrayList<>();
        if (tests.isEmpty()) {
            failures.add("the jar contains no cpuslab tests (annotation processor not run?)");
        }
        int runs = 0;
        for (CpuSlab.FrontEnd frontEnd : List.of(CpuSlab.FrontEnd.LOCKED, CpuSlab.FrontEnd.RSEQ)) {
            String unavailable = unavailable(frontEnd);
            if (unavailable != null) {
                System.out.println("cpuslab JCStress: " + frontEnd + " skipped: " + unavailable);
                continue;
            }
            Path report = reports.resolve(frontEnd.name().toLowerCase());
            System.out.printf("cpuslab JCStress: %d tests, mode %s, front end %s, report %s%n", tests.size(), mode, frontEnd, report);
            try {
                String jvm = "--enable-native-access=ALL-UNNAMED -Dcpuslab.frontEnd=" + frontEnd + " -Dcpuslab.checked=true";
                // ci: quick iterations in one JVM configuration without split compilation. Other modes: every
                // configuration JCStress detects (interpreter/C1/C2 per actor, C2 stress), our flags prepended.
                boolean ci = mode.equals(CI_MODE);
                List<String> options = new ArrayList<>(List.of("-m", ci ? "quick" : mode, "-t", TESTS.replace(".", "\\.") + ".*",
                        "-r", report.toString(), ci ? "-jvmArgs" : "-jvmArgsPrepend", jvm));
                if (ci) {
                    options.addAll(List.of("-sc", "false")); // no per-actor compilation mixes: 2 runs per test, not 9
                }
                org.openjdk.jcstress.Main.main(options.toArray(String[]::new));
            } catch (AssertionError e) {
                failures.add(frontEnd + ": " + e.getMessage());
            }
            for (String test : tests) {
                if (!Files.exists(report.resolve(test + ".html"))) {
                    failures.add(frontEnd + ": " + test + " did not run");
                }
            }
            runs++;
        }
        if (runs == 0) {
            failures.add("no front end could run");
        }
        if (failures.isEmpty()) {
            System.out.printf("cpuslab JCStress: %d tests x %d front ends ran in mode %s; no forbidden outcome, no error%n",
                    tests.size(), runs, mode);
            return;
        }
        System.out.println("cpuslab JCStress FAILED:");
        failures.forEach(f -> System.out.println("  " + f));
        System.exit(1);
    }

    private static String unavailable(CpuSlab.FrontEnd frontEnd) {
        try {
            CpuSlab.builder().frontEnd(frontEnd).build().close();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
