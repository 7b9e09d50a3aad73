package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Run in a forked JVM by {@link AllocatorContractTest}: a burst of 1 GiB (half small blocks of 1 KiB to
 * 256 KiB, half large ones of 1 to 8 MiB), every byte written, then freed, with background maintenance
 * releasing 1 GiB/s and draining caches idle for 100 ms. Passes when the maintenance thread has drained
 * every cache and released every free page within the configured time (idle time + 1 GiB at the rate +
 * a few periods) plus {@link #DEADLINE_SLACK_MILLIS} for a busy machine, and the RSS is then within
 * {@link #RSS_SLACK} of the baseline taken before the burst. Prints {@code OK ...} and exits 0, or
 * {@code FAILED ...} and exits 1.
 *
 * <pre>{@code
 * java -Xmx64m -cp ... io.cpuslab.core.RssBurstMain
 * }</pre>
 */
public final class RssBurstMain {
    static final long BURST = 1L << 30;
    static final long RATE = 1L << 30;
    static final long IDLE_MILLIS = 100;
    static final long PERIOD_MILLIS = 50;
    /**
     * What may stay resident for good reasons: the slabs' retained header pages, the page map, JIT-compiled
     * code and Java heap touched meanwhile (the burst itself is 1 GiB).
     */
    static final long RSS_SLACK = 64L << 20;
    /** On top of the configured time: a shared 2-core machine may not run the maintenance thread at once. */
    static final long DEADLINE_SLACK_MILLIS = 10_000;

    private RssBurstMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        try (OffHeapAllocator a = CpuSlab.builder().releaseRate(RATE).idleDrainMillis(IDLE_MILLIS)
                .maintenancePeriodMillis(PERIOD_MILLIS).build()) {
            a.free(a.malloc(100)); // first use out of the way (classes loaded, code compiled)
            long[] blocks = new long[(int) (BURST / 2 / 1024 + BURST / 2 / (1 << 20) + 2)]; // the smallest block is 1 KiB
            long baseline = ProcessMemory.residentBytes();
            SplittableRandom random = new SplittableRandom(42);
            long allocated = 0;
            int count = 0;
            while (allocated < BURST) {
                long size = allocated < BURST / 2 ? random.nextLong(1024, 256 * 1024) : random.nextLong(1 << 20, 8 << 20);
                long p = a.malloc(size);
                MemorySegment.ofAddress(p).reinterpret(size).fill((byte) 0x5A);
                blocks[count++] = p;
                allocated += size;
            }
            long peak = ProcessMemory.residentBytes();
            if (peak - baseline < BURST * 9 / 10) {
                fail("the burst was not resident: baseline " + Bytes.format(baseline) + ", peak " + Bytes.format(peak));
            }
            long freedAt = System.nanoTime();
            for (int i = 0; i < count; i++) {
                a.free(blocks[i]);
            }
            long deadline = freedAt + (IDLE_MILLIS + 1000 * BURST / RATE + 4 * PERIOD_MILLIS + DEADLINE_SLACK_MILLIS) * 1_000_000;
            AllocatorStats s = a.stats();
            while (!allReleased(s) && System.nanoTime() < deadline) {
                Thread.sleep(10);
                s = a.stats();
            }
            long tookMillis = (System.nanoTime() - freedAt) / 1_000_000;
            long rss = ProcessMemory.residentBytes();
            String figures = "baseline " + Bytes.format(baseline) + ", peak " + Bytes.format(peak) + " (" + count
                    + " blocks), after free " + Bytes.format(rss) + " (" + Bytes.format(rss - baseline) + " above the baseline)"
                    + ", everything released " + tookMillis + " ms after the frees";
            if (!allReleased(s)) {
                fail("caches and free pages not released in " + tookMillis + " ms: " + s);
            }
            if (rss - baseline > RSS_SLACK) {
                fail(figures);
            }
            System.out.println("OK " + figures);
        }
    }

    private static boolean allReleased(AllocatorStats s) {
        return s.cpuCacheBytes() == 0 && s.transferCacheBytes() == 0 && s.centralCacheBytes() == 0 && s.pageHeapFreeBytes() == 0;
    }

    private static void fail(String why) {
        System.out.println("FAILED " + why);
        System.exit(1);
    }
}
