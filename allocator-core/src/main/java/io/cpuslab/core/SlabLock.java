package io.cpuslab.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lock word of one slab: the locked front end's shard lock, and for every front end the right to
 * stop a slab for remote work (drain, steal, close). Only {@link SlabLayout#owning} takes and releases
 * it; this comment is the rule that method follows. It lives on the Java heap, not in the slab, because
 * its release must not be able to fail.
 *
 * <h2>Why the release cannot be lost</h2>
 * The JVM throws {@link StackOverflowError} at the entry of any method when the stack is nearly used
 * up, and a thread that dies of it while holding a lock never releases it unless the release itself
 * cannot overflow: every later drain and {@code close()} would then wait for it forever. So:
 * <ul>
 *   <li>The method whose {@code finally} releases the lock takes it itself, by a call whose
 *       {@code compareAndSet} makes the swap: an overflow there comes before the swap or not at all, and
 *       once the swap succeeded only returns follow, no call, up to the {@code try}. A helper called after
 *       the lock was taken would be unsafe: an overflow at its entry would leave the lock held.</li>
 *   <li>The release is a store in that method's own frame. The release store through {@link #HELD}
 *       orders the owner's slab writes before the release, as the lock needs, and costs no fence (the
 *       volatile store would cost a StoreLoad fence on x86, a locked instruction of several nanoseconds,
 *       on every locked push and pop). It is a call, so it falls back to the volatile field store
 *       {@code held = 0}, one {@code putfield} that needs no new frame and cannot overflow:
 * <pre>{@code
 * } finally {
 *     try {
 *         SlabLock.HELD.setRelease(lock, 0);
 *     } catch (StackOverflowError | LinkageError e) {
 *         lock.held = 0; // the call died at an entry, before its store: the store that cannot fail
 *     }
 * }
 * }</pre></li>
 * </ul>
 * The handler never releases twice: an overflow (or an error linking the first call) comes at the entry
 * of a method the release goes through, before the one store that releases, and only returns follow that
 * store. No other exception is caught: an asynchronous one (a debugger's stop) could arrive after the
 * store, and releasing again then would free a lock another thread holds; left alone, the worst it can
 * do is what it can do to the volatile store too, leave the lock held. The error is not rethrown: the
 * work committed, and an overflow near the stack's end comes again at the caller's next call. In the
 * interpreter no overflow reaches the release at all ({@code ReleaseOverflowMain} runs every operation of
 * the locked front end with every amount of stack left): the work before it needs more stack than it does.
 * The handler is for frames compiled code lays out otherwise.
 */
final class SlabLock extends SlabLockValue {
    static final VarHandle HELD;

    static {
        try {
            HELD = MethodHandles.lookup().findVarHandle(SlabLockValue.class, "held", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@code held} of a lock taken for good ({@link #close}). */
    private static final int CLOSED = 2;
    /** Spins before a waiting owner starts yielding. */
    private static final int SPINS_BEFORE_YIELD = 64;

    // Padding after the value: with the padding before it (SlabLockPadding) no two slabs' locks, and
    // nothing else, share a 64-byte line or its adjacent-line prefetch pair.
    long p11, p12, p13, p14, p15, p16, p17, p18;

    /**
     * Takes the lock within {@code attempts} tries (1 or more), spinning between them, or with
     * {@link SlabLayout#WAIT} until it has it, spinning and then yielding (never parking) while someone
     * holds it: the holder's thread may be descheduled. Returns whether the caller now holds it, and
     * false at once for a lock {@link #close closed}; once the swap succeeded it returns without another
     * call (see the class comment).
     */
    boolean acquire(int attempts) {
        for (int tries = 1; ; tries++) {
            int state = held;
            if (state == 0 && HELD.compareAndSet(this, 0, 1)) {
                return true;
            }
            if (state == CLOSED || tries == attempts) {
                return false;
            }
            if (attempts != SlabLayout.WAIT || tries < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /**
     * Takes the lock for good once its holder, if any, gave it back: every later {@link #acquire} fails
     * at once, so nobody waits for it forever (a steal that started before its allocator's close).
     */
    void close() {
        acquire(SlabLayout.WAIT);
        held = CLOSED;
    }
}

/** Cache-line padding in front of the lock word (superclass fields are laid out first). */
abstract class SlabLockPadding {
    long p01, p02, p03, p04, p05, p06, p07, p08;
}

/** The lock word, between the two paddings. */
abstract class SlabLockValue extends SlabLockPadding {
    /** 1 while held, 2 once closed; released only by {@link SlabLayout#owning}, as {@link SlabLock} says. */
    volatile int held;
}
