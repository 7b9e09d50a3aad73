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
 * x86 where a release store would not; that is the price of a release that always happens.
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
 */
public final class SlabLock extends SlabLockValue {
    private static final VarHandle HELD;

    static {
        try {
            HELD = MethodHandles.lookup().findVarHandle(SlabLockValue.class, "held", int.class);
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
     * 1 while held. Release by assigning 0 in the owner's {@code finally}, never through a method (see
     * {@link SlabLock}); the volatile store orders the owner's slab writes before the next owner's reads.
     */
    public volatile int held;
}
