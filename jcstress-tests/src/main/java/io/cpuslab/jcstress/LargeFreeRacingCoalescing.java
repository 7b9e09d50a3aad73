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
@Description("A large free (merging free page runs in the page heap) races with a large allocation: the new "
        + "block never overlaps a live one.")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "No overlap.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "A large block overlaps a live one.")
@State
public class LargeFreeRacingCoalescing {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();
    private static final long SIZE = 300 * 1024;
    final long freed = ALLOCATOR.malloc(SIZE);
    final long live = ALLOCATOR.malloc(SIZE);
    long got;

    @Actor
    public void free() {
        ALLOCATOR.free(freed);
    }

    @Actor
    public void allocate() {
        got = ALLOCATOR.malloc(2 * SIZE);
    }

    @Arbiter
    public void check(Z_Result r) {
        r.r1 = got + 2 * SIZE <= live || live + SIZE <= got;
        ALLOCATOR.free(got);
        ALLOCATOR.free(live);
    }
}
