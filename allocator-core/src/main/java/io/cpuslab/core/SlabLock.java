package io.cpuslab.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Who owns one slab: the locked front end's shard lock, and for every front end the right to stop a
 * slab for remote work (drain, steal, close). It lives on the Java heap, not in the slab, because its
 * release must not be able to fail.
 *
 * <p>The JVM throws {@link StackOverflowError} at the entry of any method when the stack is nearly used
 * up, and a thread that dies of it inside a lock's {@code finally} never releases the lock: every later
 * drain and {@code close()} would then wait for it forever. So the owner releases by assigning
 * {@code held = 0} in its own {@code finally} block, a field store (one {@code putfield} bytecode) that
 * needs no new frame and cannot overflow, never through a method. Taking the lock goes through a
 * {@code compareAndSet} call; an overflow there happens before the swap or not at all, and the call
 * returns without further calls once the swap succeeded. The volatile store costs a StoreLoad fence on
 * x86 (a locked instruction, several nanoseconds) where a release store would not.
 *
 * <pre>{@code
 * SlabLock lock = layout.tryLock(slab);
 * if (lock != null) {
 *     try {
 *         ... // exclusive work on the slab, each change committed by its last write
 *     } finally {
 *         lock.held = 0; // a store, not a call: see above
 *     }
 * }
 * }</pre>
 *
 * <h2>The release store, for hot paths</h2>
 * An owner that releases millions of times a second (the locked front end's push and pop) releases
 * with {@link #RELEASE}, which orders the owner's slab writes before the release as the lock needs and
 * costs no fence, and falls back to the volatile field store if that call fails:
 * <pre>{@code
 * } finally {
 *     try {
 *         SlabLock.RELEASE.setRelease(lock, 0);
 *     } catch (StackOverflowError | LinkageError e) {
 *         lock.held = 0; // the call died at an entry, before its store: the store that cannot fail
 *     }
 * }
 * }</pre>
 * The handler never releases twice: an overflow (or an error linking the first call) comes at the entry
 * of a method the release goes through, before the one store that releases, and only returns follow that
 * store. No other exception is caught: an asynchronous one (a debugger's stop) could arrive after the
 * store, and releasing again then would free a lock another thread holds; left alone, the worst it can
 * do is what it can do to the volatile store too, leave the lock held. The handler's store is a
 * {@code putfield} in the owner's frame, which cannot overflow, and the error is not rethrown: the
 * operation committed, and an overflow near the stack's end comes again at the caller's next call.
 * In the interpreter no overflow reaches this call at all ({@code ReleaseOverflowMain} runs push and
 * pop with every amount of stack left): the slab accesses before it need more stack than it does. The
 * handler is for frames compiled code lays out otherwise.
 */
public final class SlabLock extends SlabLockValue {
    /** {@code held}, for the release store above: {@code RELEASE.setRelease(lock, 0)}. */
    public static final VarHandle RELEASE;
    private static final VarHandle HELD;

    static {
        try {
            HELD = MethodHandles.lookup().findVarHandle(SlabLockValue.class, "held", int.class);
            RELEASE = HELD;
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Padding after the value: with the padding before it (SlabLockPadding) no two slabs' locks, and
    // nothing else, share a 64-byte line or its adjacent-line prefetch pair.
    long p11, p12, p13, p14, p15, p16, p17, p18;

    /** Takes the lock if it is free; the caller must then release it as shown above. */
    public boolean tryAcquire() {
        return held == 0 && HELD.compareAndSet(this, 0, 1);
    }

    /** Takes the lock, spinning and then yielding (never parking) while someone holds it. */
    public void acquire() {
        for (int spins = 0; !tryAcquire(); spins++) {
            if (spins < 64) {
                Thread.onSpinWait();
            } else {
                Thread.yield(); // the holder's thread may be descheduled; let it run
            }
        }
    }
}

/** Cache-line padding in front of the lock word (superclass fields are laid out first). */
abstract class SlabLockPadding {
    long p01, p02, p03, p04, p05, p06, p07, p08;
}

/** The lock word, between the two paddings. */
abstract class SlabLockValue extends SlabLockPadding {
    /**
     * 1 while held. Release by assigning 0 in the owner's {@code finally}, never through a method alone
     * (see {@link SlabLock}, and its release store for hot paths); the store orders the owner's slab writes
     * before the next owner's reads.
     */
    public volatile int held;
}
