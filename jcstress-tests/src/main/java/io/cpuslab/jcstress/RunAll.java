package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import org.openjdk.jcstress.infra.runners.TestList;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs every cpuslab JCStress test once per front end and fails unless every test ran and none had a
 * FORBIDDEN outcome or an error. JCStress itself exits 0 when no test matched or no JVM could run
 * them, so this checks that each test wrote its report page.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp jcstress-tests/target/jcstress.jar io.cpuslab.jcstress.RunAll tough report-dir</pre>
 *
 * Modes: {@code ci} (the build's: JCStress's quick preset in one JVM configuration, no split
 * compilation), or any JCStress preset ({@code sanity}, {@code quick}, {@code default}, {@code tough},
 * {@code stress}) in every JVM configuration it detects. A third argument names the variants to run
 * (default: all); any further arguments go to JCStress as they are, e.g. {@code -sc false} to leave out
 * the split-compilation configurations (each actor interpreted, C1 or C2: 9 per test instead of 1).
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
        List<String> tests = TestList.tests().stream().filter(t -> t.startsWith(TESTS)).sorted().toList();
        List<String> failures = new ArrayList<>();
        if (tests.isEmpty()) {
            failures.add("the jar contains no cpuslab tests (annotation processor not run?)");
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
                if (wanted.size() == 1 && tests.size() > 0) {
                    System.exit(SKIPPED);
                }
                continue;
            }
            Path report = reports.resolve(variant.name());
            System.out.printf("cpuslab JCStress: %d tests, mode %s, front end %s, report %s%n", tests.size(), mode, variant.name(), report);
            try {
                String jvm = "--enable-native-access=ALL-UNNAMED " + variant.properties() + " -Dcpuslab.checked=true";
                // ci: quick iterations in one JVM configuration without split compilation. Other modes: every
                // configuration JCStress detects (interpreter/C1/C2 per actor, C2 stress), our flags prepended.
                boolean ci = mode.equals(CI_MODE);
                List<String> options = new ArrayList<>(List.of("-m", ci ? "quick" : mode, "-t", TESTS.replace(".", "\\.") + ".*",
                        "-r", report.toString(), ci ? "-jvmArgs" : "-jvmArgsPrepend", jvm));
                if (ci) {
                    options.addAll(List.of("-sc", "false")); // no per-actor compilation mixes: 2 runs per test, not 9
                }
                options.addAll(extra);
                org.openjdk.jcstress.Main.main(options.toArray(String[]::new));
            } catch (AssertionError e) {
                failures.add(variant.name() + ": " + e.getMessage());
            }
            for (String test : tests) {
                if (!Files.exists(report.resolve(test + ".html"))) {
                    failures.add(variant.name() + ": " + test + " did not run");
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

    /** Runs {@code variant} in a child RunAll whose environment gives cpuslab its own rseq registration. */
    private static int child(String mode, Path reports, Variant variant, List<String> extra) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        List<String> command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), RunAll.class.getName(), mode, reports.toString(), variant.name()));
        command.addAll(extra);
        ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
        builder.environment().put(TUNABLE, OWN_REGISTRATION);
        return builder.start().waitFor();
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
