package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | SecurityException e) {
            return null; // no such file here (another OS, a kernel without THP, a sandbox): no hugepages
        }
    }
}
