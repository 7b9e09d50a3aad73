package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("close() races with an allocation and a free: each either completes before the close or throws "
        + "IllegalStateException; nothing else happens (no crash, no other exception).")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "Allocation and free completed before the close.")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "The allocator was closed first: IllegalStateException.")
@Outcome(id = "3", expect = ACCEPTABLE, desc = "Allocated before the close, the free found it closed.")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "Anything else.")
@State
public class CloseRacingAllocation {
    final OffHeapAllocator allocator = CpuSlab.builder().perCpuCacheBytes(64 * 1024).build();
    int outcome;

    @Actor
    public void allocate() {
        long p;
        try {
            p = allocator.malloc(64);
        } catch (IllegalStateException closed) {
            outcome = 2;
            return;
        }
        try {
            allocator.free(p);
            outcome = 1;
        } catch (IllegalStateException closed) {
            outcome = 3;
        }
    }

    @Actor
    public void close() {
        allocator.close();
    }

    @Arbiter
    public void check(I_Result r) {
        r.r1 = outcome;
    }
}
