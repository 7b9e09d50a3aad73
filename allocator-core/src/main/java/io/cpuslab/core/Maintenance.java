package io.cpuslab.core;

import java.util.Arrays;

/**
 * What background maintenance does on each tick, modelled on TCMalloc's background thread:
 * <ol>
 *   <li>drains the cache of every CPU (slab) that had no miss (underflow or overflow) for the idle time,
 *       through the same stop/drain protocol as {@code releaseMemory()}, so a racing fast path either
 *       completes before the drain or misses after it;</li>
 *   <li>flushes every transfer cache that saw no insert or remove for the idle time to its central free
 *       list, so spans whose objects all came back return to the page heap;</li>
 *   <li>returns {@code releaseRate × period} bytes of free backed pages to the OS.</li>
 * </ol>
 * Above the soft memory limit, steps 1 and 2 drain every cache at once, idle or not.
 *
 * <p>A busy CPU whose operations all hit its cache shows no misses either and gets drained too, as in
 * TCMalloc; it refills on its next miss. Only the maintenance thread calls {@link #tick}.
 *
 * <pre>{@code
 * Maintenance m = new Maintenance(cpuCache, transfer, pageHeap, 64 << 20, 1000, 5000);
 * m.tick(System.nanoTime());   // once per period
 * }</pre>
 */
final class Maintenance {
    private final CpuCache cpuCache;
    private final TransferCache[] transfer;
    private final PageHeap pageHeap;
    private final long releaseBytesPerTick;
    private final long idleNanos;
    /** Per slab, then per class: the activity count last seen, and when it last changed. */
    private final long[] slabMisses;
    private final long[] slabChanged;
    private final long[] transferActivity;
    private final long[] transferChanged;

    /**
     * @param releaseRate  bytes per second to return to the OS
     * @param periodMillis time between ticks
     * @param idleMillis   time without a miss after which a cache is drained; 0 for never
     */
    Maintenance(CpuCache cpuCache, TransferCache[] transfer, PageHeap pageHeap, long releaseRate, long periodMillis,
                long idleMillis) {
        this.cpuCache = cpuCache;
        this.transfer = transfer;
        this.pageHeap = pageHeap;
        // In double, so a huge rate saturates at Long.MAX_VALUE instead of overflowing.
        this.releaseBytesPerTick = (long) Math.ceil(releaseRate * (periodMillis / 1000.0));
        this.idleNanos = idleMillis == 0 ? Long.MAX_VALUE : Math.multiplyExact(idleMillis, 1_000_000L);
        this.slabMisses = new long[cpuCache.slabs()];
        this.slabChanged = new long[cpuCache.slabs()];
        this.transferActivity = new long[transfer.length];
        this.transferChanged = new long[transfer.length];
        // Counts are never negative: the first tick sees every cache as just active.
        Arrays.fill(slabMisses, -1);
        Arrays.fill(transferActivity, -1);
    }

    void tick(long now) {
        boolean overSoftLimit = pageHeap.overSoftLimit();
        AllocatorEvents.Reason drainReason = overSoftLimit ? AllocatorEvents.Reason.SOFT_LIMIT : AllocatorEvents.Reason.IDLE;
        for (int slab = 0; slab < slabMisses.length; slab++) {
            long misses = cpuCache.misses(slab);
            if (misses != slabMisses[slab]) {
                slabMisses[slab] = misses;
                slabChanged[slab] = now;
            }
            if ((overSoftLimit || now - slabChanged[slab] >= idleNanos) && cpuCache.capacityBytes(slab) > 0) {
                cpuCache.drain(slab, drainReason);
            }
        }
        for (int sc = 1; sc < transfer.length; sc++) {
            TransferCache.Snapshot t = transfer[sc].snapshot();
            long activity = t.insertHits() + t.insertMisses() + t.removeHits() + t.removeMisses();
            if (activity != transferActivity[sc]) {
                transferActivity[sc] = activity;
                transferChanged[sc] = now;
            }
            if ((overSoftLimit || now - transferChanged[sc] >= idleNanos) && t.objects() > 0) {
                transfer[sc].flush();
            }
        }
        if (releaseBytesPerTick > 0) {
            pageHeap.release(releaseBytesPerTick, AllocatorEvents.Reason.RELEASE_RATE);
        }
    }
}
