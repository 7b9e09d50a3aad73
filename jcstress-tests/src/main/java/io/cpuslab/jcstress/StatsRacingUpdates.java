package io.cpuslab.jcstress;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.Z_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("stats() races with allocations and frees that move objects between the CPU cache, the transfer "
        + "cache and the central free list: no counter is negative or torn beyond what was mapped.")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "Every part is between 0 and the mapped bytes.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "A negative or impossible counter.")
@State
public class StatsRacingUpdates {
    /** A CPU cache of 8 KiB: holding {@link #HELD} blocks of 1 KiB overflows it, so objects move between layers. */
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.builder().perCpuCacheBytes(8 * 1024).build();
    private static final int HELD = 32;
    private static final long SIZE = 1024;
    final long[] held = new long[HELD];

    @Actor
    public void churn() {
        for (int i = 0; i < HELD; i++) {
            held[i] = ALLOCATOR.malloc(SIZE);
        }
        for (int i = 0; i < HELD; i++) {
            ALLOCATOR.free(held[i]);
        }
    }

    @Actor
    public void read(Z_Result r) {
        AllocatorStats s = ALLOCATOR.stats();
        long mapped = s.mappedBytes();
        r.r1 = within(s.applicationBytes(), mapped) && within(s.cpuCacheBytes(), mapped)
                && within(s.transferCacheBytes(), mapped) && within(s.centralCacheBytes(), mapped)
                && within(s.spanOverheadBytes(), mapped) && within(s.pageHeapFreeBytes(), mapped)
                && within(s.releasedBytes(), mapped) && within(s.metadataBytes(), mapped);
    }

    private static boolean within(long value, long mapped) {
        return value >= 0 && value <= mapped;
    }
}
