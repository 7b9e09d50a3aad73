package io.cpuslab.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts a main class of the test class path in a new JVM (same java binary), optionally behind a
 * command prefix ({@code taskset -c 0}, or {@code bash -c 'ulimit -v N; exec "$0" "$@"'} for shell
 * limits), and collects its output.
 *
 * <pre>{@code
 * ForkedJvm.Result r = ForkedJvm.run(ForkedJvm.underShell("ulimit -v 1000000"), Map.of(), List.of("-Xmx32m"), Main.class, "arg");
 * }</pre>
 */
public final class ForkedJvm {
    private static final long TIMEOUT_MINUTES = 5;

    private ForkedJvm() {
    }

    /** Exit code and everything the JVM wrote (stdout and stderr together). */
    public record Result(int exitCode, String output) {
        /** The first line starting with OK or FAILED (how the forked checks report), else all the output. */
        public String verdict() {
            return output.lines().filter(l -> l.startsWith("OK") || l.startsWith("FAILED")).findFirst().orElse(output);
        }
    }

    /** A prefix that runs {@code shellCommands} in bash, then execs the JVM in the same process (keeping its limits). */
    public static List<String> underShell(String shellCommands) {
        return List.of("bash", "-c", shellCommands + "; exec \"$0\" \"$@\"");
    }

    /** Runs {@code prefix java jvmOptions -cp <this class path> main args}; fails after 5 minutes. */
    public static Result run(List<String> prefix, Map<String, String> environment, List<String> jvmOptions,
                             Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(prefix);
        command.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(main.getName());
        command.addAll(List.of(args));
        Path output = Files.createTempFile("cpuslab-fork", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("forked JVM timed out: " + command + "\n" + Files.readString(output));
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
