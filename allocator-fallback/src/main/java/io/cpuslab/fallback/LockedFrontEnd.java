package io.cpuslab.fallback;

import io.cpuslab.FrontEndInfo;
import io.cpuslab.core.SlabFrontEnd;
import io.cpuslab.core.SlabLayout;
import io.cpuslab.core.SlabLock;

/**
 * The lock-based front end: per-CPU caches become shards, each a slab of the shared {@link SlabLayout}
 * guarded by its own {@link SlabLock}, a spin lock whose release cannot be lost to a
 * {@link StackOverflowError}. Works on every OS.
 *
 * <p>A thread's home shard comes from a hash of its thread id, not from thread-local state, so
 * virtual threads cost nothing extra and the cache memory stays bounded by the shard count (twice the
 * processors, rounded up to a power of two), whatever the number of threads. The fast path never parks
 * and never waits: it try-locks the home shard, then one neighbour, and otherwise reports a miss so the
 * caller takes the slow path through the transfer cache. Slow-path operations spin briefly and give up
 * rather than wait. Only {@link #stop} (drain, steal, close) waits, spinning and yielding.
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
            int shard = (home + i) & mask;
            SlabLock lock = layout.tryLock(shard);
            if (lock != null) {
                try {
                    return layout.pop(shard, sizeClass);
                } finally {
                    try {
                        SlabLock.RELEASE.setRelease(lock, 0); // no fence (SlabLock, "The release store")
                    } catch (StackOverflowError | LinkageError e) {
                        lock.held = 0; // the call died at an entry, before its store: the store that cannot fail
                    }
                }
            }
        }
        return 0;
    }

    @Override
    public boolean push(int sizeClass, long address) {
        int home = currentSlab();
        for (int i = 0; i < FAST_PROBES; i++) {
            int shard = (home + i) & mask;
            SlabLock lock = layout.tryLock(shard);
            if (lock != null) {
                try {
                    return layout.push(shard, sizeClass, address);
                } finally {
                    try {
                        SlabLock.RELEASE.setRelease(lock, 0); // no fence (SlabLock, "The release store")
                    } catch (StackOverflowError | LinkageError e) {
                        lock.held = 0; // the call died at an entry, before its store: the store that cannot fail
                    }
                }
            }
        }
        return false;
    }

    @Override
    public int grow(int slab, int sizeClass, int by) {
        SlabLock lock = acquire(slab);
        if (lock == null) {
            return 0;
        }
        try {
            return layout.grow(slab, sizeClass, by);
        } finally {
            lock.held = 0;
        }
    }

    @Override
    public int pushBatch(int slab, int sizeClass, long[] items, int from, int count) {
        SlabLock lock = acquire(slab);
        if (lock == null) {
            return 0;
        }
        try {
            return layout.pushBatch(slab, sizeClass, items, from, count);
        } finally {
            lock.held = 0;
        }
    }

    @Override
    public int popBatch(int slab, int sizeClass, long[] items, int from, int max) {
        SlabLock lock = acquire(slab);
        if (lock == null) {
            return 0;
        }
        try {
            return layout.popBatch(slab, sizeClass, items, from, max);
        } finally {
            lock.held = 0;
        }
    }

    /** Try-locks {@code slab}, spinning a little: its holder keeps it for a handful of instructions. */
    private SlabLock acquire(int slab) {
        for (int spins = 0; spins < SLOW_SPINS; spins++) {
            SlabLock lock = layout.tryLock(slab);
            if (lock != null) {
                return lock;
            }
            Thread.onSpinWait();
        }
        return null;
    }

    /** The shard lock is all a remote owner needs: every operation here takes it. */
    @Override
    public SlabLock stop(int slab) {
        return layout.lock(slab);
    }

    /** Nothing beyond the lock, which the caller releases. */
    @Override
    public void start(int slab) {
    }

    /** Holds every shard for good: the fast path's try-locks fail from now on. */
    @Override
    public void close() {
        for (int slab = 0; slab <= mask; slab++) {
            layout.lock(slab);
        }
    }
}
