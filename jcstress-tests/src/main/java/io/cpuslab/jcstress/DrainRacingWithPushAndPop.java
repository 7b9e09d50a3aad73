package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.Z_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("releaseMemory() stops, fences and drains every CPU cache while another thread frees into and "
        + "allocates from its CPU cache: no object is lost or duplicated (checked mode throws on either).")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "The kept block is live and distinct from the next one.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "A block was lost or handed out twice.")
@State
public class DrainRacingWithPushAndPop {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();
    long kept;

    @Actor
    public void pushAndPop() {
        long a = ALLOCATOR.malloc(32);
        ALLOCATOR.free(a);               // push onto this CPU's cache
        kept = ALLOCATOR.malloc(32);     // pop, likely the same block
    }

    @Actor
    public void drain() {
        ALLOCATOR.releaseMemory();
    }

    @Arbiter
    public void check(Z_Result r) {
        long next = ALLOCATOR.malloc(32);
        r.r1 = next != kept && ALLOCATOR.usableSize(kept) == 32; // checked mode: usableSize rejects a freed block
        ALLOCATOR.free(next);
        ALLOCATOR.free(kept);
    }
}
