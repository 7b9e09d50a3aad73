package io.cpuslab.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The resident set size and the page protections of this process, from {@code /proc/self} (Linux), for
 * tests that check memory really goes back to the OS and guard pages really are inaccessible.
 *
 * <pre>{@code
 * if (ProcessMemory.available()) {
 *     long before = ProcessMemory.residentBytes();
 * }
 * }</pre>
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path MAPS = Path.of("/proc/self/maps");
    private static final Path SMAPS = Path.of("/proc/self/smaps");

    private ProcessMemory() {
    }

    public static boolean available() {
        return Files.isReadable(STATUS);
    }

    /** The permissions ({@code rw-p}, {@code ---p}, ...) of the mapping holding {@code address}, from /proc/self/maps; null if unmapped. */
    public static String protection(long address) {
        try {
            for (String line : Files.readAllLines(MAPS)) {
                String[] fields = line.split(" ", 3);
                String[] range = fields[0].split("-");
                if (Long.compareUnsigned(address, Long.parseUnsignedLong(range[0], 16)) >= 0
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
                    return fields[1];
                }
            }
            return null;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + MAPS, e);
        }
    }

    /** The kernel's flags ({@code VmFlags}: {@code rd wr mr ... hg}) of the mapping holding {@code address}, from /proc/self/smaps; null if unmapped. */
    public static String vmFlags(long address) {
        try {
            boolean inside = false;
            for (String line : Files.readAllLines(SMAPS)) {
                long[] mapping = HugePageSupport.mapping(line);
                if (mapping != null) {
                    inside = Long.compareUnsigned(address, mapping[0]) >= 0 && Long.compareUnsigned(address, mapping[1]) < 0;
                } else if (inside && line.startsWith("VmFlags:")) {
                    return line.substring("VmFlags:".length()).trim();
                }
            }
            return null;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + SMAPS, e);
        }
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
