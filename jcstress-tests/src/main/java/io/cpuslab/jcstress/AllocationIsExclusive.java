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
@Description("Two threads allocate from the same size class at once: never the same address.")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "Distinct blocks.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "One block handed out twice.")
@State
public class AllocationIsExclusive {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();
    long a;
    long b;

    @Actor
    public void first() {
        a = ALLOCATOR.malloc(64);
    }

    @Actor
    public void second() {
        b = ALLOCATOR.malloc(64);
    }

    @Arbiter
    public void check(Z_Result r) {
        r.r1 = a != b && a != 0 && b != 0;
        ALLOCATOR.free(a);
        if (b != a) {
            ALLOCATOR.free(b);
        }
    }
}
