package io.cpuslab.core;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import java.lang.foreign.Arena;
import java.util.concurrent.atomic.AtomicLong;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

@JCStressTest
@Description("Two threads own one slab through SlabLayout.owning, one waiting for it (as a drain does) and one "
        + "trying once (as the locked front end's push and pop do); each pushes an object of its own and pops it "
        + "again. Only one owner at a time gives each its own object back.")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "Each owned the slab in turn.")
@Outcome(id = "1, -1", expect = ACCEPTABLE_INTERESTING, desc = "The try found the slab owned and gave up.")
@Outcome(id = ".*", expect = FORBIDDEN, desc = "Another thread's object, or none: two owners at once.")
@State
public class SlabOwningIsExclusive {
    private static final int SC = 5;
    /** One slab for every state: ownership must hold across them too, so sharing it can only add races. */
    private static final SlabLayout LAYOUT = new SlabLayout(
            Arena.global().allocate(SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), 1);
    private static final AtomicLong TOKENS = new AtomicLong();
    /** 1 when the slab gave back the object just pushed, 0 when it gave another one or none. */
    private static final SlabLayout.Work PUSH_POP =
            (owned, slab, sc, token) -> owned.push(slab, sc, token) && owned.pop(slab, sc) == token ? 1 : 0;

    static {
        LAYOUT.grow(0, SC, 64); // before any owner: class initialisation happens once, before the actors
    }

    private final long waiterToken = TOKENS.addAndGet(16);
    private final long tryToken = TOKENS.addAndGet(16);

    @Actor
    public void waiter(II_Result r) {
        r.r1 = (int) LAYOUT.owning(0, SlabLayout.WAIT, PUSH_POP, SC, waiterToken);
    }

    @Actor
    public void tryOnce(II_Result r) {
        r.r2 = (int) LAYOUT.owning(0, 1, PUSH_POP, SC, tryToken);
    }
}
