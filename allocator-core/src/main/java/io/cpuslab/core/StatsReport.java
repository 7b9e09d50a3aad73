package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.FrontEndInfo;

import java.util.Formatter;

/**
 * Formats {@link AllocatorStats} as text in the shape of TCMalloc's {@code GetStats()}: a summary that
 * adds up to the mapped bytes, then a per-class and a per-CPU table.
 */
final class StatsReport {
    private StatsReport() {
    }

    /** @param thpBytes bytes of the page heap the kernel backs with transparent huge pages, -1 if unknown */
    static String format(AllocatorStats s, FrontEndInfo frontEnd, String osMemory, long thpBytes) {
        StringBuilder text = new StringBuilder(4096);
        Formatter f = new Formatter(text);
        String rule = "------------------------------------------------\n";
        text.append(rule);
        line(f, " ", s.applicationBytes(), "Bytes in use by application");
        line(f, "+", s.cpuCacheBytes(), "Bytes in per-CPU caches");
        line(f, "+", s.transferCacheBytes(), "Bytes in transfer caches");
        line(f, "+", s.centralCacheBytes(), "Bytes in central free lists");
        line(f, "+", s.spanOverheadBytes(), "Bytes in span tails (fragmentation)");
        line(f, "+", s.pageHeapFreeBytes(), "Bytes in page heap free list");
        line(f, "+", s.releasedBytes(), "Bytes released to the OS (mapped, not resident)");
        line(f, "+", s.metadataBytes(), "Bytes of metadata: slabs and native page map (address space)");
        text.append("MALLOC:   ------------\n");
        line(f, "=", s.mappedBytes(), "Bytes mapped from the OS (" + osMemory + ")");
        line(f, " ", s.residentBytes(), "Bytes backed (mapped - released)");
        line(f, " ", s.releasedTotalBytes(), "Bytes handed back to the OS since start");
        line(f, " ", s.pageMapHeapBytes(), "Java heap bytes of the page map");
        text.append(rule);
        f.format("Front end: %s%n", frontEnd);
        AllocatorStats.HugePageStats h = s.hugePages();
        f.format("Hugepages: %s%n", h.reason());
        if (h.inUse()) {
            f.format("Hugepages (2 MiB): %d backed = %d full + %d partially used + %d free; %d broken now, %d broken since start%n",
                    h.backed(), h.full(), h.partial(), h.free(), h.broken(), h.brokenTotal());
        }
        f.format("Bytes backed by transparent huge pages (AnonHugePages): %s%n",
                thpBytes < 0 ? "unknown (no /proc/self/smaps)" : thpBytes + " (" + Bytes.format(thpBytes) + ")");
        text.append(rule);
        f.format("Size classes with memory:%n");
        f.format("%5s %7s %11s %11s %11s %11s %7s %13s %13s%n", "class", "size", "app objs", "cpu objs",
                "xfer objs", "central free", "spans", "xfer ins h/m", "xfer rem h/m");
        for (AllocatorStats.ClassStats c : s.classes()) {
            f.format("%5d %7d %11d %11d %11d %11d %7d %13s %13s%n", c.sizeClass(), c.objectSize(),
                    c.applicationObjects(), c.cpuCacheObjects(), c.transferObjects(), c.centralFreeObjects(), c.spans(),
                    c.transferInsertHits() + "/" + c.transferInsertMisses(),
                    c.transferRemoveHits() + "/" + c.transferRemoveMisses());
        }
        text.append(rule);
        f.format("Per-CPU caches (%s):%n", frontEnd.kind() == FrontEndInfo.Kind.LOCKED ? "per shard" : "per CPU");
        f.format("%5s %12s %12s %11s %11s %7s %9s%n", "slab", "cached", "capacity", "underflows", "overflows", "drains",
                "ovf/unf");
        for (AllocatorStats.SlabStats c : s.slabs()) {
            f.format("%5d %12s %12s %11d %11d %7d %9s%n", c.slab(), Bytes.format(c.cachedBytes()),
                    Bytes.format(c.capacityBytes()), c.underflows(), c.overflows(), c.drains(),
                    c.underflows() == 0 ? "-" : String.format("%.2f", (double) c.overflows() / c.underflows()));
        }
        return text.toString();
    }

    private static void line(Formatter f, String sign, long bytes, String what) {
        f.format("MALLOC: %s %15d (%10s) %s%n", sign, bytes, Bytes.format(bytes), what);
    }
}
