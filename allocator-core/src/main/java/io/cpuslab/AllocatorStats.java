package io.cpuslab;

import java.util.List;

/**
 * Where an allocator's memory is, at one moment. The parts add up: {@link #mappedBytes()} equals
 * application + per-CPU caches + transfer caches + central free lists + span overhead + page heap free +
 * released + metadata. Caches are read without stopping them, so while other threads allocate the parts
 * are each a close snapshot; when the allocator is quiet they are exact. Tools see the same numbers under
 * the same names: JMX through {@link AllocatorMXBean}, JDK Flight Recorder in the events
 * {@code io.cpuslab.Statistics}, {@code io.cpuslab.ClassStatistics} and {@code io.cpuslab.SlabStatistics}.
 *
 * <pre>{@code
 * AllocatorStats s = alloc.stats();
 * long resident = s.mappedBytes() - s.releasedBytes();
 * System.out.printf("in use %d, cached %d%n", s.applicationBytes(), s.cachedBytes());
 * }</pre>
 *
 * @param applicationBytes   bytes of blocks handed out and not freed (rounded up to class size / pages)
 * @param cpuCacheBytes      free blocks in per-CPU (or per-shard) caches
 * @param transferCacheBytes free blocks in transfer caches
 * @param centralCacheBytes  free blocks in spans held by the central free lists
 * @param spanOverheadBytes  span tails too small for one more object of their class
 * @param pageHeapFreeBytes  free pages still backed by memory
 * @param releasedBytes      free pages given back to the OS (mapped, not resident)
 * @param metadataBytes      off-heap allocator metadata: the per-CPU slab regions and the page map's native
 *                           mirror (address space)
 * @param mappedBytes        all address space the allocator holds from the OS
 * @param releasedTotalBytes bytes handed back to the OS since start, counting repeats
 * @param pageMapHeapBytes   Java heap held by the page map (not part of the sum)
 * @param classes            one row per size class that has memory
 * @param slabs              one row per per-CPU slab
 * @param hugePages          whether the page heap is hugepage-aware, and why (not)
 */
public record AllocatorStats(long applicationBytes, long cpuCacheBytes, long transferCacheBytes, long centralCacheBytes,
                             long spanOverheadBytes, long pageHeapFreeBytes, long releasedBytes, long metadataBytes,
                             long mappedBytes, long releasedTotalBytes, long pageMapHeapBytes,
                             List<ClassStats> classes, List<SlabStats> slabs, HugePageStats hugePages) {

    /** Free memory held by caches at every level (per-CPU, transfer, central, page heap). */
    public long cachedBytes() {
        return cpuCacheBytes + transferCacheBytes + centralCacheBytes + pageHeapFreeBytes;
    }

    /** Memory the OS has to back: mapped minus released. */
    public long residentBytes() {
        return mappedBytes - releasedBytes;
    }

    /**
     * One size class.
     *
     * @param sizeClass         class number (1..47)
     * @param objectSize        bytes per object
     * @param applicationObjects objects handed out to the application
     * @param cpuCacheObjects   objects in per-CPU caches
     * @param transferObjects   objects in the transfer cache
     * @param transferCapacity  transfer cache capacity in objects
     * @param centralFreeObjects free objects in the central free list's spans
     * @param spans             spans of this class
     * @param transferInsertHits / transferInsertMisses / transferRemoveHits / transferRemoveMisses batch moves
     */
    public record ClassStats(int sizeClass, int objectSize, long applicationObjects, long cpuCacheObjects,
                             long transferObjects, long transferCapacity, long centralFreeObjects, long spans,
                             long transferInsertHits, long transferInsertMisses, long transferRemoveHits,
                             long transferRemoveMisses) {
    }

    /**
     * One per-CPU slab.
     *
     * @param slab          CPU number (rseq) or shard number (locked)
     * @param cachedBytes   bytes of free objects cached
     * @param capacityBytes bytes the cache is charged for against its budget: its capacities, give or take
     *                      what a grow or drain had under way at the last recount
     * @param underflows    allocations that found the cache empty
     * @param overflows     frees that found the cache full
     * @param drains        times the slab was drained
     */
    public record SlabStats(int slab, long cachedBytes, long capacityBytes, long underflows, long overflows, long drains) {
    }

    /**
     * The page heap's hugepages. A hugepage-aware heap keeps its memory in 2 MiB hugepages: whole free
     * ones, and the filler's, which hold the spans below a hugepage. The counts are 0 when it is off.
     * Which of them the kernel really backs with transparent huge pages is
     * {@link io.cpuslab.OffHeapAllocator#transparentHugePageBytes()} (it reads {@code /proc/self/smaps}).
     *
     * <pre>{@code
     * AllocatorStats.HugePageStats h = alloc.stats().hugePages();
     * if (!h.inUse()) {
     *     System.out.println("no hugepages: " + h.reason());
     * } else {
     *     System.out.printf("%d of %d hugepages full, %d broken%n", h.full(), h.backed(), h.broken());
     * }
     * }</pre>
     *
     * @param inUse       whether spans are packed into 2 MiB hugepages and the regions advised {@code MADV_HUGEPAGE}
     *                    (setting {@code hugePages=AUTO} on a kernel with transparent huge pages in {@code madvise}
     *                    or {@code always} mode)
     * @param reason      what was decided and why, e.g. {@code "off: transparent huge pages are [never] in ..."}
     * @param full        hugepages with every page in use
     * @param partial     hugepages with pages in use and free pages (free pages of a hugepage in use count in
     *                    {@link #pageHeapFreeBytes()}, or in {@link #releasedBytes()} once it is broken)
     * @param free        whole free hugepages still backed (in {@link #pageHeapFreeBytes()})
     * @param broken      partially used hugepages some of whose free pages were released because a limit
     *                    demanded it: the kernel backs what is left of them with small pages
     * @param brokenTotal times a hugepage was broken since start
     */
    public record HugePageStats(boolean inUse, String reason, long full, long partial, long free, long broken,
                                long brokenTotal) {

        /** Hugepages holding backed memory: full, partially used and free. */
        public long backed() {
            return full + partial + free;
        }
    }
}
