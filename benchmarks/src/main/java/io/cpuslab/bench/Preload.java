package io.cpuslab.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;

/**
 * Starting a JVM with a library in {@code LD_PRELOAD}, for peers that cannot be loaded any other way
 * (Debian's jemalloc). JMH cannot set a forked JVM's environment, so it gets a wrapper script as its
 * {@code jvm}: {@code LD_PRELOAD=<library> exec <this JVM's java> "$@"}. The whole forked JVM then runs
 * on that allocator, as an application started with {@code LD_PRELOAD} would.
 *
 * <pre>{@code
 * options.jvm(Preload.wrapper(NativeMallocPeer.Library.JEMALLOC, dir).toString());
 * }</pre>
 */
public final class Preload {
    private Preload() {
    }

    /** This JVM's {@code java} launcher. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The environment variable a child JVM needs for the library. */
    static String environment(NativeMallocPeer.Library library) {
        return "LD_PRELOAD=" + library.path();
    }

    /** Writes (or rewrites) the wrapper script for the library into {@code directory}. */
    static Path wrapper(NativeMallocPeer.Library library, Path directory) {
        Path script = directory.resolve("java-with-" + library.name().toLowerCase(Locale.ROOT));
        List<String> lines = List.of("#!/bin/sh",
                "# written by ./cpuslab bench: JMH forks the " + library + " runs through this script",
                "exec env " + quote(environment(library)) + " " + quote(java()) + " \"$@\"");
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
