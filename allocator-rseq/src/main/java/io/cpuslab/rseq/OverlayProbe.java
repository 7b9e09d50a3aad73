package io.cpuslab.rseq;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Whether this kernel gives TCMalloc's overlay trick what it relies on, proven out of process: the
 * bundled {@code cpuslab_overlay_probe} runs with {@code GLIBC_TUNABLES=glibc.pthread.rseq=0} and its own
 * 32-byte registration, and checks that {@code cpu_id_start} is rewritten after a context switch,
 * before a signal handler and by a membarrier-RSEQ IPI from another CPU, and that critical sections
 * abort. A kernel in rseq debug mode kills the helper (it writes a read-only field): that fails too, as
 * does booting with {@code rseq_debug=1}. A version deny-list (6.19.x; 7.0 before 7.0.10 on x86-64 and
 * before 7.0.14 on arm64) vetoes on top unless {@code -Dcpuslab.rseq.overlayDenyList=false}. The result is
 * computed once per JVM.
 *
 * <pre>{@code
 * OverlayProbe.Result r = OverlayProbe.result();
 * if (!r.safe()) System.out.println("overlay refused: " + r.refusal());
 * }</pre>
 */
public final class OverlayProbe {
    /** Checks the helper must report as "ok", in its output order. */
    static final List<String> CHECKS = List.of("registration", "context_switch", "signal", "membarrier_ipi",
            "membarrier_ipi_all", "abort");
    /** {@code -Dcpuslab.rseq.overlayDenyList=false} waives the version veto (for kernels with the fix backported). */
    static final String DENY_LIST_PROPERTY = "cpuslab.rseq.overlayDenyList";
    private static final long TIMEOUT_SECONDS = 30;

    /**
     * @param safe     every check passed and no veto
     * @param checks   check name to the helper's word for it ("ok", "fail", "skipped: why", ...)
     * @param refusal  null when safe, else the first failed check or the veto, in words
     */
    public record Result(boolean safe, Map<String, String> checks, String refusal) {
        @Override
        public String toString() {
            return (safe ? "overlay safe" : "overlay refused: " + refusal) + " " + checks;
        }
    }

    private OverlayProbe() {
    }

    private static final class Once {
        static final Result RESULT = run();
    }

    /** The probe's verdict for this kernel (runs the helper on first use). */
    public static Result result() {
        return Once.RESULT;
    }

    private static Result run() {
        String kernel = System.getProperty("os.version", "");
        String arch = System.getProperty("os.arch", "");
        String debug = rseqDebugVeto(readCommandLine());
        if (debug != null) {
            return new Result(false, Map.of(), debug);
        }
        Path helper = null;
        Path output = null;
        try {
            helper = NativeFiles.extract("cpuslab_overlay_probe");
            output = Files.createTempFile("cpuslab_overlay_probe", ".out");
            // Output to a file, not a pipe: reading a pipe would block past the timeout if the helper hung.
            ProcessBuilder builder = new ProcessBuilder(helper.toString()).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().put("GLIBC_TUNABLES", "glibc.pthread.rseq=0");
            Process process = builder.start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return new Result(false, Map.of(), "the probe helper did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return evaluate(parse(Files.readString(output, StandardCharsets.UTF_8)), process.exitValue(), kernel, arch);
        } catch (IOException e) {
            return new Result(false, Map.of(), "the probe helper cannot run: " + e.getMessage()
                    + (helper == null ? "" : NativeFiles.noexecHint(helper)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(false, Map.of(), "interrupted while probing");
        } finally {
            NativeFiles.delete(helper);
            NativeFiles.delete(output);
        }
    }

    private static String readCommandLine() {
        try {
            return Files.readString(Path.of("/proc/cmdline"));
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * rseq debug mode kills any task that writes cpu_id_start: the JVM would die at its next context
     * switch. Booted with it ({@code rseq_debug=1}, Linux 6.19+) is a veto; switched on later at run time
     * it cannot be seen from here, and kills the process.
     */
    static String rseqDebugVeto(String commandLine) {
        for (String parameter : commandLine.trim().split("\\s+")) {
            if (parameter.startsWith("rseq_debug=") && parameter.substring("rseq_debug=".length())
                    .matches("(?i)1|y|yes|on|true")) {
                return "the kernel was booted with " + parameter + ": rseq debug mode kills a process that writes cpu_id_start";
            }
        }
        return null;
    }

    /** "check=result" lines of the helper's output. */
    static Map<String, String> parse(String output) {
        Map<String, String> checks = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                checks.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return checks;
    }

    /**
     * The verdict from the helper's checks and exit code and the kernel version: safe only if every
     * check is "ok", the helper exited 0 (not killed), and the version is not on the deny-list.
     */
    static Result evaluate(Map<String, String> checks, int exitCode, String kernel, String arch) {
        Map<String, String> copy = Collections.unmodifiableMap(new LinkedHashMap<>(checks)); // in the helper's order
        if (exitCode > 128) {
            return new Result(false, copy, "the probe helper was killed by signal " + (exitCode - 128)
                    + " (a kernel in rseq debug mode kills writers of cpu_id_start)");
        }
        for (String check : CHECKS) {
            String result = checks.get(check);
            if (result == null || !(result.equals("ok") || result.startsWith("ok "))) { // "ok (detail)" passes too
                return new Result(false, copy, "check " + check + " " + (result == null ? "did not run" : "gave " + result));
            }
        }
        if (exitCode != 0) {
            return new Result(false, copy, "the probe helper exited with " + exitCode);
        }
        String veto = Boolean.parseBoolean(System.getProperty(DENY_LIST_PROPERTY, "true")) ? versionVeto(kernel, arch) : null;
        return veto == null ? new Result(true, copy, null) : new Result(false, copy, veto);
    }

    /**
     * Kernels known to break the overlay (reference: the 6.19 rseq rework and its fix): all of 6.19, and
     * 7.0 before 7.0.10 (x86-64) or 7.0.14 (arm64). Null when the version is not on the list.
     */
    static String versionVeto(String kernel, String arch) {
        String[] parts = kernel.split("[.-]");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            int patch = parts.length > 2 && parts[2].matches("\\d+") ? Integer.parseInt(parts[2]) : 0;
            int fixed = arch.equals("aarch64") ? 14 : 10;
            if ((major == 6 && minor == 19) || (major == 7 && minor == 0 && patch < fixed)) {
                return "kernel " + kernel + " is on the deny-list (6.19.x, 7.0 before 7.0." + fixed + " on " + arch
                        + ": upstream, these do not rewrite cpu_id_start on every preemption); if yours has the fix "
                        + "backported (some distribution kernels do), -D" + DENY_LIST_PROPERTY + "=false waives this veto "
                        + "and the probe alone decides";
            }
            return null;
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            return "kernel version " + kernel + " could not be read";
        }
    }
}
