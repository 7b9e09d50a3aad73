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
@Description("stats() races with allocations and frees: no counter is negative or torn beyond what was mapped.")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "Every part is between 0 and the mapped bytes.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "A negative or impossible counter.")
@State
public class StatsRacingUpdates {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();

    @Actor
    public void churn() {
        for (int i = 0; i < 4; i++) {
            ALLOCATOR.free(ALLOCATOR.malloc(100 + 400 * i));
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
