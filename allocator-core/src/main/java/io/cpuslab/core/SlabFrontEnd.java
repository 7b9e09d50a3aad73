package io.cpuslab.core;

import io.cpuslab.FrontEndInfo;

/**
 * The front-end SPI: the only operations whose implementation differs between the rseq and the locked
 * front ends. Each works on the {@link SlabLayout} owned by core; core decides sizes, capacities,
 * refill and overflow amounts and when to drain.
 *
 * <p>The fast path ({@link #pop}, {@link #push}) works on whatever slab the calling thread maps to right
 * now (its CPU, or its shard). The slow-path operations name the slab they expect, from
 * {@link #currentSlab()}; they do nothing and return 0 when the caller is no longer on it (rseq: the
 * thread migrated) or cannot have it right now (locked: the shard is busy). None of them ever parks.
 * {@link #stop}/{@link #start} give core exclusive access to any slab for remote work (drain, steal,
 * close): for rseq that is the slab's lock plus the stop word and a membarrier fence, for locked the
 * shard lock, a {@link SlabLock}.
 *
 * <pre>{@code
 * long p = frontEnd.pop(sc);           // 0: miss, take the slow path
 * if (!frontEnd.push(sc, p)) { ... }   // false: full or busy, take the slow path
 * }</pre>
 */
public interface SlabFrontEnd {
    /** What this front end is and why it was chosen (filled in by the provider). */
    FrontEndInfo info();

    /**
     * The address of this front end's native descriptor for the one-call fast path
     * ({@link NativeFastPath}), or 0 when it has none. Valid until the JVM exits: a call racing with
     * {@link #close()} may still read it, and then misses.
     */
    default long nativeDescriptor() {
        return 0;
    }

    /** The fast path's flavour that {@link #nativeDescriptor()} is made for: never null where that is not 0. */
    default NativeFastPath.Flavour nativeFlavour() {
        return null;
    }

    /** Pops an object of class {@code sizeClass} from the caller's slab; 0 when empty, stopped or busy. */
    long pop(int sizeClass);

    /** Pushes an object onto the caller's slab; false when full, stopped or busy. */
    boolean push(int sizeClass, long address);

    /** The slab the caller maps to now: a hint for the slow path, which then names it. */
    int currentSlab();

    /** Raises the capacity of {@code sizeClass} in {@code slab} by up to {@code by}; returns the increase. */
    int grow(int slab, int sizeClass, int by);

    /** Pushes {@code items[from..from+count)} in order as far as capacity allows; returns how many. */
    int pushBatch(int slab, int sizeClass, long[] items, int from, int count);

    /** Pops up to {@code max} objects into {@code items[from..)}; returns how many. */
    int popBatch(int slab, int sizeClass, long[] items, int from, int max);

    /**
     * Waits until core owns {@code slab} exclusively: no fast-path operation is in flight on it or can
     * start. The caller ends it with {@link #start} and then releases the returned lock with a field
     * store in its own {@code finally} (see {@link SlabLock}), so an overflow in {@code start} cannot
     * leave the slab owned for good:
     * <pre>{@code
     * SlabLock lock = frontEnd.stop(slab);
     * try {
     *     ... // remote work
     * } finally {
     *     try {
     *         frontEnd.start(slab);
     *     } finally {
     *         lock.held = 0;
     *     }
     * }
     * }</pre>
     * If {@code stop} throws, the slab is neither stopped nor owned.
     */
    SlabLock stop(int slab);

    /**
     * Lets the fast path use the slab again; core's writes to it are visible to every later operation
     * on it. A {@code start} that did not happen (the caller died in it) leaves an rseq slab's stop word
     * set with nobody owning it: its sections then miss until the next owner starts it (the rseq front
     * end does so when a miss there asks for {@link #currentSlab()}).
     */
    void start(int slab);

    /**
     * For the allocator's close: when this returns, no front-end operation is touching slab memory and
     * every later one misses without touching it, so the slabs can be unmapped.
     */
    void close();
}
