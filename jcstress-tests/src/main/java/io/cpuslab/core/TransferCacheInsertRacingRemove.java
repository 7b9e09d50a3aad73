package io.cpuslab.core;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZZ_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("A transfer cache takes a batch back while another thread removes a batch: no object is handed out "
        + "twice, and every object removed is a real object of the class.")
@Outcome(id = "true, true", expect = ACCEPTABLE, desc = "Distinct, valid objects.")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "An object handed out twice, or garbage.")
@State
public class TransferCacheInsertRacingRemove {
    private static final int SC = SizeClasses.classFor(64);
    private static final int BATCH = 8;
    private static final PageMap MAP = new PageMap();
    private static final PageHeap HEAP = new PageHeap(OsMemory.forThisPlatform(), MAP, Long.MAX_VALUE, false);
    private static final TransferCache CACHE = new TransferCache(SC, new CentralFreeList(SC, HEAP, MAP));

    final long[] mine = new long[BATCH];
    final long[] theirs = new long[BATCH];
    int got;
    boolean distinct;

    public TransferCacheInsertRacingRemove() {
        CACHE.removeRange(mine, BATCH);
        OwnedObjects.take(mine, BATCH);
    }

    @Actor
    public void insert() {
        OwnedObjects.give(mine, BATCH);
        CACHE.insertRange(mine, 0, BATCH);
    }

    @Actor
    public void remove() {
        got = CACHE.removeRange(theirs, BATCH) instanceof Batch.Objects(int count) ? count : 0;
        distinct = OwnedObjects.take(theirs, got);
    }

    @Arbiter
    public void check(ZZ_Result r) {
        r.r1 = distinct && got == BATCH;
        boolean valid = true;
        for (int i = 0; i < got; i++) {
            Span span = MAP.get(theirs[i]);
            valid &= span != null && span.sizeClass == SC && SizeClasses.objectIndex(SC, theirs[i] - span.start()) >= 0;
        }
        r.r2 = valid;
        OwnedObjects.give(theirs, got);
        CACHE.insertRange(theirs, 0, got);
    }
}
