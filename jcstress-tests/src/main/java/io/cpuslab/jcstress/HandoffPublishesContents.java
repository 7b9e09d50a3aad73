package io.cpuslab.jcstress;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.JJ_Result;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("Allocate and write on one thread, publish the address, read and free on another (ownership "
        + "transfer): the reader sees the write; afterwards the block is reusable exactly once.")
@Outcome(id = "-1, 1", expect = ACCEPTABLE, desc = "The handoff was not visible yet; the writer's block is freed by the arbiter.")
@Outcome(id = "81985529216486895, 1", expect = ACCEPTABLE, desc = "The reader saw the contents and freed the block.")
@Outcome(id = ".*, 0", expect = FORBIDDEN, desc = "After the free, one block was handed out twice.")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "The reader saw a block without its contents.")
@State
public class HandoffPublishesContents {
    private static final OffHeapAllocator ALLOCATOR = CpuSlab.global();
    private static final long VALUE = 0x0123456789ABCDEFL;
    volatile long handoff;
    long written;
    boolean freedByReader;

    @Actor
    public void writer() {
        long p = ALLOCATOR.malloc(16);
        MemorySegment.ofAddress(p).reinterpret(16).set(ValueLayout.JAVA_LONG, 0, VALUE);
        written = p;
        handoff = p;
    }

    @Actor
    public void reader(JJ_Result r) {
        long p = handoff;
        if (p == 0) {
            r.r1 = -1;
            return;
        }
        r.r1 = MemorySegment.ofAddress(p).reinterpret(16).get(ValueLayout.JAVA_LONG, 0);
        ALLOCATOR.free(p);
        freedByReader = true;
    }

    @Arbiter
    public void reuse(JJ_Result r) {
        if (!freedByReader) {
            ALLOCATOR.free(written);
        }
        long x = ALLOCATOR.malloc(16);
        long y = ALLOCATOR.malloc(16);
        r.r2 = x != y ? 1 : 0;
        ALLOCATOR.free(x);
        ALLOCATOR.free(y);
    }
}
