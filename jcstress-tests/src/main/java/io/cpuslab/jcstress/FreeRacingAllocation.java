package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("A free and an allocation of the same class race: the freed block is handed out at most once, "
        + "and never while another block is live.")
@Outcome(id = "false, true", expect = ACCEPTABLE, desc = "The allocation got another block.")
@Outcome(id = "true, true", expect = ACCEPTABLE_INTERESTING, desc = "The allocation got the block freed at the same moment.")
@Outcome(id = ".*, false", expect = FORBIDDEN, desc = "A live block, or the freed block twice, was handed out.")
@State
public class FreeRacingAllocation {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();
    final long freed = ALLOCATOR.malloc(48);
    final long live = ALLOCATOR.malloc(48);
    long got;

    @Actor
    public void free() {
        ALLOCATOR.free(freed);
    }

    @Actor
    public void allocate() {
        got = ALLOCATOR.malloc(48);
    }

    @Arbiter
    public void check(ZZ_Result r) {
        long again = ALLOCATOR.malloc(48);
        r.r1 = got == freed;
        r.r2 = got != live && again != live && got != again;
        ALLOCATOR.free(got);
        if (again != got) {
            ALLOCATOR.free(again);
        }
        ALLOCATOR.free(live);
    }
}
