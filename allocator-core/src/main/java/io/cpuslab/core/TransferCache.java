package io.cpuslab.core;

import java.util.Arrays;

/**
 * Per size class: a bounded stack of object addresses that moves whole batches between CPU caches
 * without touching spans. A CPU cache that overflows inserts a batch here; one that underflows removes
 * one. Misses fall through to the {@link CentralFreeList}.
 *
 * <p>Capacity follows TCMalloc: at most 64 batches and at most about 1 MiB of objects per class (but
 * never less than one batch). The lock is held only to copy addresses, never across a call into the
 * central free list.
 */
final class TransferCache {
    private static final int MAX_BATCHES = 64;
    private static final long MAX_BYTES = 1L << 20;

    private final CentralFreeList central;
    private final long[] slots;

    // Guarded by this.
    private int used;
    private long insertHits;
    private long insertMisses;
    private long removeHits;
    private long removeMisses;

    TransferCache(int sizeClass, CentralFreeList central) {
        this.central = central;
        int objectSize = SizeClasses.size(sizeClass);
        int batch = SizeClasses.batch(sizeClass);
        int capacity = (int) Math.min((long) MAX_BATCHES * batch, Math.max(batch, MAX_BYTES / ((long) objectSize * batch) * batch));
        this.slots = new long[capacity];
    }

    /**
     * Fills {@code out[0..count)}: from this cache, the rest from the central free list. Fewer only when the
     * page heap refused a span; none only with its {@link NoMemory} (see {@link CentralFreeList#removeRange}).
     */
    Batch removeRange(long[] out, int count) {
        int got;
        synchronized (this) {
            got = Math.min(count, used);
            // Copy, then lower the count with no call in between: a cut in the copy loses nothing.
            System.arraycopy(slots, used - got, out, 0, got);
            used -= got;
            if (got == count) {
                removeHits++;
            } else {
                removeMisses++;
            }
        }
        if (got == count) {
            return new Batch.Objects(got);
        }
        return switch (central.removeRange(out, got, count - got)) {
            case Batch.Objects(int more) -> new Batch.Objects(got + more);
            // Keep what the cache had: the caller can still be served.
            case NoMemory noMemory -> got > 0 ? new Batch.Objects(got) : noMemory;
        };
    }

    /** Takes {@code in[from..from+count)}; what does not fit goes to the central free list. */
    void insertRange(long[] in, int from, int count) {
        synchronized (this) {
            if (used + count <= slots.length) {
                System.arraycopy(in, from, slots, used, count);
                used += count;
                insertHits++;
                return;
            }
            insertMisses++;
        }
        central.insertRange(in, from, count);
    }

    /** Moves everything cached here back to the central free list (for releasing memory). */
    void flush() {
        long[] all;
        synchronized (this) {
            all = Arrays.copyOf(slots, used);
            used = 0;
        }
        central.insertRange(all, 0, all.length);
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(used, slots.length, insertHits, insertMisses, removeHits, removeMisses);
    }

    record Snapshot(int objects, int capacity, long insertHits, long insertMisses, long removeHits, long removeMisses) {
    }
}
