package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Whether an allocator's page heap is hugepage-aware, decided once when it is built: from the setting,
 * from whether its OS memory can advise {@code MADV_HUGEPAGE}, and from the kernel's transparent huge
 * page mode. Only {@code madvise} and {@code always} back an advised region with huge pages; under
 * {@code never} (or without THP, or on another OS) the page heap stays as it was without hugepages.
 *
 * <pre>{@code
 * HugePageSupport hugePages = HugePageSupport.decide(CpuSlab.HugePages.AUTO, OsMemory.forThisPlatform());
 * if (!hugePages.inUse()) {
 *     System.out.println(hugePages.reason());   // e.g. "off: transparent huge pages are [never] in ..."
 * }
 * }</pre>
 *
 * @param inUse  whether the page heap packs spans into hugepages and advises its regions
 * @param reason what was decided and why, in words for reports
 */
record HugePageSupport(boolean inUse, String reason) {
    static final Path ENABLED = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
    static final Path PMD_SIZE = Path.of("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size");
    private static final Path SMAPS = Path.of("/proc/self/smaps");

    static HugePageSupport decide(CpuSlab.HugePages setting, OsMemory os) {
        if (setting == CpuSlab.HugePages.OFF) {
            return new HugePageSupport(false, "off: cpuslab.hugePages=OFF");
        }
        if (!os.canAdviseHugePages()) {
            return new HugePageSupport(false, "off: " + os.description() + " cannot advise transparent huge pages");
        }
        return fromKernel(read(ENABLED), read(PMD_SIZE));
    }

    /**
     * The decision from the contents of the kernel's two THP files, each null where it is missing.
     * {@code enabled} reads like {@code "always [madvise] never"}: the bracketed word is the mode.
     */
    static HugePageSupport fromKernel(String enabled, String pmdSize) {
        if (enabled == null) {
            return new HugePageSupport(false, "off: the kernel has no transparent huge pages (no " + ENABLED + ")");
        }
        int open = enabled.indexOf('[');
        int close = enabled.indexOf(']', open + 1);
        String mode = open >= 0 && close > open ? enabled.substring(open + 1, close) : enabled.trim();
        if (!mode.equals("madvise") && !mode.equals("always")) {
            return new HugePageSupport(false, "off: transparent huge pages are [" + mode + "] in " + ENABLED);
        }
        // The filler packs 2 MiB; a kernel whose huge pages differ (aarch64 with 16 or 64 KiB base pages) gains nothing.
        if (pmdSize != null && !pmdSize.trim().equals(Long.toString(PageHeap.HUGE_PAGE_BYTES))) {
            return new HugePageSupport(false, "off: the kernel's huge pages are " + pmdSize.trim()
                    + " bytes, the page heap packs " + Bytes.format(PageHeap.HUGE_PAGE_BYTES));
        }
        return new HugePageSupport(true, "on: spans packed into 2 MiB hugepages, regions advised MADV_HUGEPAGE"
                + " (transparent huge pages [" + mode + "])");
    }

    /**
     * Bytes of {@code regions} (each {@code {address, bytes}}) the kernel backs with transparent huge pages
     * now: the {@code AnonHugePages} of every mapping in {@code /proc/self/smaps} that overlaps a region, at
     * most the overlap (the kernel may merge a region with a neighbouring mapping). Reads the whole file,
     * so it is for reports and tests, never a hot path; -1 where the file cannot be read.
     */
    static long anonHugePageBytes(List<long[]> regions) {
        List<String> lines;
        try {
            lines = Files.readAllLines(SMAPS);
        } catch (IOException | SecurityException e) {
            return -1;
        }
        long total = 0;
        long overlap = 0;
        for (String line : lines) {
            long[] mapping = mapping(line);
            if (line.startsWith("AnonHugePages:")) {
                long bytes = Long.parseLong(line.substring("AnonHugePages:".length()).replace("kB", "").trim()) << 10;
                total += Math.min(bytes, overlap);
            } else if (mapping != null) {
                overlap = 0;
                for (long[] region : regions) {
                    overlap += Math.max(0, Math.min(mapping[1], region[0] + region[1]) - Math.max(mapping[0], region[0]));
                }
            }
        }
        return total;
    }

    /**
     * {@code {start, end}} of the mapping whose header {@code line} of {@code /proc/self/smaps} is
     * ("start-end perms offset dev inode path"; its fields follow on the next lines), or null for a field line.
     */
    static long[] mapping(String line) {
        int dash = line.indexOf('-');
        int space = line.indexOf(' ');
        if (dash > 0 && space > dash && isHex(line, 0, dash) && isHex(line, dash + 1, space)) {
            return new long[] {Long.parseUnsignedLong(line, 0, dash, 16), Long.parseUnsignedLong(line, dash + 1, space, 16)};
        }
        return null;
    }

    private static boolean isHex(String text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(text.charAt(i), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | SecurityException e) {
            return null; // no such file here (another OS, a kernel without THP, a sandbox): no hugepages
        }
    }
}
