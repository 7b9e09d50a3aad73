package io.cpuslab.fallback;

import io.cpuslab.FrontEndInfo;
import io.cpuslab.core.SlabFrontEnd;
import io.cpuslab.core.SlabLayout;

/**
 * The lock-based front end: per-CPU caches become shards, each a slab of the shared {@link SlabLayout}
 * guarded by its own spin lock, owned through {@link SlabLayout#owning}, whose release cannot be lost to
 * a {@link StackOverflowError}. Works on every OS.
 *
 * <p>A thread's home shard comes from a hash of its thread id, not from thread-local state, so
 * virtual threads cost nothing extra and the cache memory stays bounded by the shard count (twice the
 * processors, rounded up to a power of two), whatever the number of threads. The fast path never parks
 * and never waits: it try-locks the home shard, then one neighbour, and otherwise reports a miss so the
 * caller takes the slow path through the transfer cache. Slow-path operations spin briefly and give up
 * rather than wait. Only {@link #whileStopped} (drain, steal) and close wait, spinning and yielding.
 *
 * <pre>{@code
 * SlabFrontEnd locked = new LockedFrontEnd(layout, "requested with frontEnd=LOCKED");
 * long p = locked.pop(sizeClass);
 * }</pre>
 */
public final class LockedFrontEnd implements SlabFrontEnd {
    /** Shards tried by the fast path: the home shard and its neighbour. */
    private static final int FAST_PROBES = 2;
    /** Spins a slow-path operation waits for its shard before giving up. */
    private static final int SLOW_SPINS = 256;
    /** Fibonacci hashing spreads the mostly sequential thread ids over the shards. */
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final SlabLayout.Work GROW = (owned, slab, sc, by) -> owned.grow(slab, sc, (int) by);

    private final SlabLayout layout;
    private final int mask;
    private final FrontEndInfo info;

    public LockedFrontEnd(SlabLayout layout, String reason) {
        int shards = layout.slabCount();
        if (Integer.bitCount(shards) != 1) {
            throw new IllegalArgumentException("shard count must be a power of two: " + shards);
        }
        this.layout = layout;
        this.mask = shards - 1;
        this.info = new FrontEndInfo(FrontEndInfo.Kind.LOCKED,
                shards + " shards picked by thread-id hash, each guarded by a spin lock", reason, shards);
    }

    /** Shards for this machine: twice the processors, as a power of two. */
    static int shardCount() {
        return Integer.highestOneBit(Math.max(1, 2 * Runtime.getRuntime().availableProcessors() - 1)) << 1;
    }

    @Override
    public FrontEndInfo info() {
        return info;
    }

    @Override
    public int currentSlab() {
        return (int) ((Thread.currentThread().threadId() * GOLDEN) >>> 32) & mask;
    }

    @Override
    public long pop(int sizeClass) {
        int home = currentSlab();
        for (int i = 0; i < FAST_PROBES; i++) {
            long p = layout.owning((home + i) & mask, 1, SlabLayout.POP, sizeClass, 0);
            if (p != SlabLayout.NOT_OWNED) {
                return p;
            }
        }
        return 0;
    }

    @Override
    public boolean push(int sizeClass, long address) {
        int home = currentSlab();
        for (int i = 0; i < FAST_PROBES; i++) {
            long pushed = layout.owning((home + i) & mask, 1, SlabLayout.PUSH, sizeClass, address);
            if (pushed != SlabLayout.NOT_OWNED) {
                return pushed != 0;
            }
        }
        return false;
    }

    @Override
    public int grow(int slab, int sizeClass, int by) {
        return ownedCount(layout.owning(slab, SLOW_SPINS, GROW, sizeClass, by));
    }

    @Override
    public int pushBatch(int slab, int sizeClass, long[] items, int from, int count) {
        return ownedCount(layout.owning(slab, SLOW_SPINS,
                (owned, s, sc, n) -> owned.pushBatch(s, sc, items, from, (int) n), sizeClass, count));
    }

    @Override
    public int popBatch(int slab, int sizeClass, long[] items, int from, int max) {
        return ownedCount(layout.owning(slab, SLOW_SPINS,
                (owned, s, sc, n) -> owned.popBatch(s, sc, items, from, (int) n), sizeClass, max));
    }

    /** A slow-path operation's count, 0 when its shard stayed busy for {@link #SLOW_SPINS}. */
    private static int ownedCount(long answer) {
        return answer == SlabLayout.NOT_OWNED ? 0 : (int) answer;
    }

    /** The shard lock is all a remote owner needs: every operation here takes it. */
    @Override
    public long whileStopped(int slab, SlabLayout.Work work, int sizeClass, long arg) {
        return layout.owning(slab, SlabLayout.WAIT, work, sizeClass, arg);
    }

    /** Holds every shard for good: the fast path's try-locks fail from now on. */
    @Override
    public void close() {
        for (int slab = 0; slab <= mask; slab++) {
            layout.ownForGood(slab);
        }
    }
}
