package io.cpuslab.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * An environment variable a peer's JVMs must be started with: {@code LD_PRELOAD} of Debian's jemalloc
 * (static TLS: it cannot be loaded any other way), or {@code GLIBC_TUNABLES=glibc.pthread.rseq=0} for
 * cpuslab's overlay mode (it needs its own rseq registration). JMH cannot set a forked JVM's
 * environment, so it gets a wrapper script as its {@code jvm}: {@code exec env VAR=value <this JVM's
 * java> "$@"}; the footprint child JVM gets the variable directly. The whole child JVM runs with it, as an
 * application started that way would.
 *
 * <pre>{@code
 * options.jvm(spec.environment().wrapper(dir).toString());
 * }</pre>
 *
 * @param variable    the variable's name
 * @param value       its value
 * @param unavailable why a JVM started with it cannot run the peer here (checked from this JVM), or null
 */
public record ChildEnvironment(String variable, String value, Supplier<String> unavailable) {
    /** This JVM's {@code java} launcher. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** {@code VAR=value}, for people. */
    @Override
    public String toString() {
        return variable + "=" + value;
    }

    /** Writes (or rewrites) the wrapper script for this environment into {@code directory}. */
    Path wrapper(Path directory) {
        Path script = directory.resolve("java-with-" + variable.toLowerCase(Locale.ROOT));
        List<String> lines = List.of("#!/bin/sh",
                "# written by ./cpuslab bench: JMH forks runs that need " + variable + " through this script",
                "exec env " + quote(toString()) + " " + quote(java()) + " \"$@\"");
        try {
            Files.createDirectories(directory);
            Files.write(script, lines);
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + script, e);
        }
        return script;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
