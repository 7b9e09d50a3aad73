package io.cpuslab.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident set size of this process, from {@code /proc/self/status} (Linux), for tests that check
 * memory really goes back to the OS.
 *
 * <pre>{@code
 * if (ProcessMemory.available()) {
 *     long before = ProcessMemory.residentBytes();
 * }
 * }</pre>
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {
    }

    public static boolean available() {
        return Files.isReadable(STATUS);
    }

    /** VmRSS in bytes. */
    public static long residentBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim()) << 10;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + STATUS, e);
        }
        throw new IllegalStateException("no VmRSS line in " + STATUS);
    }
}
