package io.cpuslab.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts a JVM like this one (same java binary, same class path) through {@code bash -c}, so a test can
 * put shell limits in front of it, and collects its output.
 *
 * <pre>{@code
 * ForkedJvm.Result r = ForkedJvm.run("ulimit -v 1000000; ", List.of("-Xmx32m"), Main.class, "arg");
 * }</pre>
 */
public final class ForkedJvm {
    private ForkedJvm() {
    }

    /** Exit code and everything the JVM wrote (stdout and stderr together). */
    public record Result(int exitCode, String output) {
    }

    public static String java() {
        return ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("no java command"));
    }

    /** Runs {@code shellPrefix exec java jvmOptions -cp <this class path> main args} with a 2-minute timeout. */
    public static Result run(String shellPrefix, List<String> jvmOptions, Class<?> main, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(quote(java()));
        jvmOptions.forEach(o -> command.add(quote(o)));
        command.add("-cp");
        command.add(quote(System.getProperty("java.class.path")));
        command.add(main.getName());
        for (String arg : args) {
            command.add(quote(arg));
        }
        Path output = Files.createTempFile("cpuslab-fork", ".out");
        try {
            ProcessBuilder builder = new ProcessBuilder("bash", "-c", shellPrefix + "exec " + String.join(" ", command))
                    .redirectErrorStream(true).redirectOutput(output.toFile());
            // glibc reserves 64 MiB of address space per malloc arena: keep that out of a tight ulimit -v.
            builder.environment().put("MALLOC_ARENA_MAX", "2");
            Process process = builder.start();
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException("forked JVM did not finish in 2 minutes: " + command);
            }
            return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
