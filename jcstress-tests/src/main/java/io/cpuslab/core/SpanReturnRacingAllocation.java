package io.cpuslab.core;

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
@Description("A central free list gets back the last objects of a span (which then returns to the page heap) "
        + "while another thread allocates from the same class: no object is handed out twice.")
@Outcome(id = "true", expect = ACCEPTABLE, desc = "Distinct objects.")
@Outcome(id = "false", expect = FORBIDDEN, desc = "An object handed out twice.")
@State
public class SpanReturnRacingAllocation {
    /** 4 KiB objects: two per span, so spans empty and return to the page heap all the time. */
    private static final int SC = SizeClasses.classFor(4096);
    private static final PageMap MAP = new PageMap();
    private static final PageHeap HEAP = new PageHeap(OsMemory.forThisPlatform(), MAP, Long.MAX_VALUE, false);
    private static final CentralFreeList CENTRAL = new CentralFreeList(SC, HEAP, MAP);

    final long[] mine = new long[2];
    final long[] theirs = new long[2];
    boolean distinct;

    public SpanReturnRacingAllocation() {
        CENTRAL.removeRange(mine, 0, 2);
        OwnedObjects.take(mine, 2);
    }

    @Actor
    public void giveBackSpan() {
        OwnedObjects.give(mine, 2);
        CENTRAL.insertRange(mine, 0, 2);
    }

    @Actor
    public void allocate() {
        CENTRAL.removeRange(theirs, 0, 2);
        distinct = OwnedObjects.take(theirs, 2);
    }

    @Arbiter
    public void check(Z_Result r) {
        r.r1 = distinct;
        OwnedObjects.give(theirs, 2);
        CENTRAL.insertRange(theirs, 0, 2);
    }
}
