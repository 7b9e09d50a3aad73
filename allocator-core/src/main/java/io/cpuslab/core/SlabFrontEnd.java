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
 * {@link #whileStopped} gives core exclusive access to any slab for remote work (drain, steal).
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
     * Runs {@code work} as the exclusive owner of {@code slab} for remote work (drain, steal), waiting
     * for it if need be, and answers what {@code work} answered, or {@link SlabLayout#NOT_OWNED} without
     * running it once the front end is closed. While {@code work} runs no fast-path
     * operation is in flight on the slab or can start; once it returns, its writes are visible to every
     * later operation there. For rseq that is the slab's lock plus its stop word and a membarrier fence,
     * for the locked front end the shard lock; both own the slab through {@link SlabLayout#owning}, so
     * the slab is owned again by nobody whatever {@code work} throws.
     * <pre>{@code
     * long freed = frontEnd.whileStopped(slab, (layout, s, sc, want) -> layout.shrinkUnused(s, sc, (int) want), sc, 8);
     * }</pre>
     * An rseq slab whose owner died before it cleared the stop word (a {@link StackOverflowError}) is left
     * stopped with nobody owning it: its sections miss until the next {@link #currentSlab()} there starts it.
     */
    long whileStopped(int slab, SlabLayout.Work work, int sizeClass, long arg);

    /**
     * For the allocator's close: when this returns, no front-end operation is touching slab memory and
     * every later one misses without touching it, so the slabs can be unmapped.
     */
    void close();
}
