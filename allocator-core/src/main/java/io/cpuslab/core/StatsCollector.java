package io.cpuslab.core;

import io.cpuslab.AllocatorStats;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * One allocator's {@link AllocatorStats}, read from its layers: the page heap's snapshot, each class's
 * transfer cache and central free list, and each slab's per-CPU cache. Each is read under its own lock,
 * one after the other: the parts add up to the mapped bytes exactly while the allocator is quiet.
 * {@link StatsReport} formats what this collects.
 *
 * <pre>{@code
 * AllocatorStats s = StatsCollector.collect(parts, largeBytes);
 * String text = StatsReport.format(s, parts.frontEnd.info(), parts.os.description(), -1);
 * }</pre>
 */
final class StatsCollector {
    private StatsCollector() {
    }

    /** @param largeBytes bytes of the large spans the allocator has handed out and not taken back */
    static AllocatorStats collect(AllocatorParts parts, LongAdder largeBytes) {
        CpuCache cpuCache = parts.cpuCache;
        PageHeap.Snapshot heap = parts.pageHeap.snapshot();
        long cpu = 0, transferred = 0, centralFree = 0, overhead = 0, smallApplication = 0;
        List<AllocatorStats.ClassStats> classes = new ArrayList<>();
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            int size = SizeClasses.size(sc);
            TransferCache.Snapshot t = parts.transfer[sc].snapshot();
            CentralFreeList.Snapshot c = parts.central[sc].snapshot();
            long cpuObjects = 0;
            for (int slab = 0; slab < cpuCache.slabs(); slab++) {
                cpuObjects += cpuCache.objects(slab, sc);
            }
            // Three snapshots under three locks: while objects move, the difference can dip below the
            // truth, even below 0. It is exact when the allocator is quiet; it is never shown negative.
            long application = Math.max(0, c.objectsOut() - t.objects() - cpuObjects);
            cpu += cpuObjects * size;
            transferred += (long) t.objects() * size;
            centralFree += c.freeObjects() * size;
            overhead += c.spans() * ((SizeClasses.pages(sc) << SizeClasses.PAGE_SHIFT) - (long) SizeClasses.objectsPerSpan(sc) * size);
            smallApplication += application * size;
            if (c.spans() > 0 || t.objects() > 0 || cpuObjects > 0) {
                classes.add(new AllocatorStats.ClassStats(sc, size, application, cpuObjects, t.objects(), t.capacity(),
                        c.freeObjects(), c.spans(), t.insertHits(), t.insertMisses(), t.removeHits(), t.removeMisses()));
            }
        }
        List<AllocatorStats.SlabStats> slabs = new ArrayList<>();
        for (int slab = 0; slab < cpuCache.slabs(); slab++) {
            long bytes = 0;
            for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
                bytes += cpuCache.objects(slab, sc) * SizeClasses.size(sc);
            }
            slabs.add(new AllocatorStats.SlabStats(slab, bytes, cpuCache.capacityBytes(slab), cpuCache.underflows(slab),
                    cpuCache.overflows(slab), cpuCache.drains(slab)));
        }
        long metadata = parts.slabBytes + heap.nativePageMapBytes();
        return new AllocatorStats(smallApplication + largeBytes.sum(), cpu, transferred, centralFree, overhead,
                heap.freeBytes(), heap.releasedBytes(), metadata, heap.mappedBytes() + metadata,
                heap.releasedTotalBytes(), heap.pageMapHeapBytes(), List.copyOf(classes), List.copyOf(slabs),
                new AllocatorStats.HugePageStats(parts.hugePages.inUse(), parts.hugePages.reason(), heap.fullHugePages(),
                        heap.partialHugePages(), heap.freeHugePages(), heap.brokenHugePages(), heap.brokenTotal()));
    }
}
