package io.cpuslab.core;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The per-CPU cache policy, front-end independent: what happens when a fast-path pop finds its slab
 * empty (underflow) or a push finds it full (overflow), how capacities grow within each slab's byte
 * budget, and draining. Modelled on TCMalloc's {@code CpuCache}.
 *
 * <ul>
 *   <li><b>Capacity.</b> Every class starts at capacity 0. An underflow below one batch grows straight to
 *       a batch; below two batches each miss grows by one; a miss of the other kind than the last one
 *       (the cache alternates between empty and full: too small) grows by a batch. Growth takes bytes from
 *       the slab's budget ({@code perCpuCacheBytes}); when it runs out, capacity not holding objects is
 *       stolen from other classes of the same slab.</li>
 *   <li><b>Moves.</b> A miss moves about half the capacity, at most a batch: refill keeps one object
 *       for the caller and pushes the rest; overflow takes the freed object plus objects popped from
 *       the slab to the transfer cache.</li>
 * </ul>
 *
 * <p>Slab capacities are read without ownership (they are hints); they change only through the front
 * end. The per-slab budget counter is charged before {@code grow} and given back what was not granted;
 * steals and drains lower it while they own the slab, and {@link #recount} puts it right where a dying
 * thread or a race left it off (see there).
 */
final class CpuCache {
    private static final byte UNDERFLOW = 1;
    private static final byte OVERFLOW = 2;

    private final SlabFrontEnd frontEnd;
    private final SlabLayout layout;
    private final TransferCache[] transfer;
    private final OsMemory os;
    private final long budget;
    private final int slabs;
    /** Bytes of capacity granted per slab: sum over classes of capacity * object size. */
    private final AtomicLongArray capacityBytes;
    private final AtomicLongArray underflows;
    private final AtomicLongArray overflows;
    private final AtomicLongArray drains;
    /** Kind of the last miss per (slab, class); racy by design: a lost update only delays a growth step. */
    private final byte[] lastMiss;
    /** Per slab: the class to steal from next, so no class is always the victim. */
    private final AtomicIntegerArray stealCursor;
    private final AllocatorEvents events;

    CpuCache(SlabFrontEnd frontEnd, SlabLayout layout, TransferCache[] transfer, OsMemory os, long perCpuCacheBytes,
             AllocatorEvents events) {
        this.frontEnd = frontEnd;
        this.layout = layout;
        this.transfer = transfer;
        this.os = os;
        this.budget = perCpuCacheBytes;
        this.slabs = layout.slabCount();
        this.capacityBytes = new AtomicLongArray(slabs);
        this.underflows = new AtomicLongArray(slabs);
        this.overflows = new AtomicLongArray(slabs);
        this.drains = new AtomicLongArray(slabs);
        this.lastMiss = new byte[slabs * SizeClasses.COUNT];
        this.stealCursor = new AtomicIntegerArray(slabs);
        this.events = events;
    }

    /**
     * Underflow: refills the caller's slab from the transfer cache and returns one object for the caller,
     * or the page heap's {@link NoMemory} when not a single object could be had.
     */
    Refill allocate(int sc) {
        int slab = frontEnd.currentSlab();
        underflows.incrementAndGet(slab);
        int capacity = updateCapacity(slab, sc, UNDERFLOW);
        long[] batch = new long[moveCount(sc, capacity)];
        int got;
        switch (transfer[sc].removeRange(batch, batch.length)) {
            case Batch.Objects(int count) -> got = count;
            case NoMemory noMemory -> {
                return noMemory;
            }
        }
        int pushed = got > 1 ? frontEnd.pushBatch(slab, sc, batch, 1, got - 1) : 0;
        int left = got - 1 - pushed;
        if (left > 0) {
            transfer[sc].insertRange(batch, 1 + pushed, left);
        }
        return new Refill.Block(batch[0]);
    }

    /** Overflow: makes room in the caller's slab (or grows it) and takes {@code address} back. */
    void deallocate(int sc, long address) {
        int slab = frontEnd.currentSlab();
        overflows.incrementAndGet(slab);
        int before = layout.capacity(slab, sc);
        int capacity = updateCapacity(slab, sc, OVERFLOW);
        if (capacity > before && frontEnd.push(sc, address)) {
            return;
        }
        long[] batch = new long[moveCount(sc, capacity)];
        batch[0] = address;
        int n = 1 + frontEnd.popBatch(slab, sc, batch, 1, batch.length - 1);
        transfer[sc].insertRange(batch, 0, n);
    }

    /** Objects to move on a miss: about half the capacity, at least one, at most a batch. */
    private static int moveCount(int sc, int capacity) {
        return Math.clamp((capacity + 1) / 2 + 1, 1, SizeClasses.batch(sc));
    }

    /** Grows the class after a miss as the policy says, within the budget; returns the capacity now. */
    private int updateCapacity(int slab, int sc, byte kind) {
        int capacity = layout.capacity(slab, sc);
        int batch = SizeClasses.batch(sc);
        int index = slab * SizeClasses.COUNT + sc;
        boolean alternated = lastMiss[index] != 0 && lastMiss[index] != kind;
        lastMiss[index] = kind;
        int by;
        if (kind == UNDERFLOW && capacity < batch) {
            by = batch - capacity;
        } else if (alternated) {
            by = batch;
        } else if (capacity < 2 * batch) {
            by = 1;
        } else {
            return capacity;
        }
        by = Math.min(by, SlabLayout.maxCapacity(sc) - capacity);
        if (by == 0) {
            return capacity; // at its most: nothing to charge, and no reason to recount
        }
        int size = SizeClasses.size(sc);
        int granted = reserve(slab, by, size);
        // Only an empty class steals: a full one is not short of objects, and letting overflows steal makes
        // classes take each other's spare capacity until every cache is full and every free overflows.
        if (granted < by && kind == UNDERFLOW && steal(slab, sc, (long) (by - granted) * size) > 0) {
            granted += reserve(slab, by - granted, size);
        }
        if (granted == 0 && recount(slab)) {
            granted = reserve(slab, by, size);
        }
        if (granted == 0) {
            return capacity;
        }
        int grown = frontEnd.grow(slab, sc, granted);
        if (grown < granted) {
            capacityBytes.addAndGet(slab, -(long) (granted - grown) * size);
        }
        return capacity + grown;
    }

    /** Takes up to {@code count * size} bytes from the slab's budget; returns how many objects' worth. */
    private int reserve(int slab, int count, int size) {
        while (true) {
            long used = capacityBytes.get(slab);
            int n = (int) Math.min(count, Math.max(0, (budget - used) / size));
            if (n == 0 || capacityBytes.compareAndSet(slab, used, used + (long) n * size)) {
                return n;
            }
        }
    }

    /**
     * When a reservation got nothing (the budget looks spent for this size): charges the slab with the
     * capacity it really has, unless the charge changed while it was summed, and says whether that freed
     * budget. More is charged than the slab has when a thread died between charging and growing, or a
     * steal or drain between its shrink and its subtraction (a {@link StackOverflowError} can come at any
     * call); without this the slab would miss on every operation for good. The recount owns the slab
     * while it sums (one attempt: a busy slab is not recounted this time, the next miss tries again), so
     * steals and drains, which change the capacity and the charge while they own it, are wholly before or
     * after it. A grant is not: it is charged, then grown, then its unused part given back, each a step
     * of its own (the rseq front end grows without owning the slab). So a recount that succeeds leaves
     * the slab charged for less than it will have by the grants under way at it. The next recount
     * replaces that error with its own, so errors do not add up over the slab's life; until then, and it
     * comes only when the budget looks spent, the slab can pass its budget by the shortfall the last one
     * left.
     */
    private boolean recount(int slab) {
        return layout.owning(slab, 1, this::recountOwned, 0, 0) == 1;
    }

    private long recountOwned(SlabLayout owned, int slab, int unusedClass, long unusedArg) {
        long charged = capacityBytes.get(slab);
        long real = capacityOf(owned, slab);
        return real != charged && capacityBytes.compareAndSet(slab, charged, real) && real < charged ? 1 : 0;
    }

    /** Bytes of capacity {@code slab} has over all classes; exact while the caller owns the slab. */
    private static long capacityOf(SlabLayout layout, int slab) {
        long bytes = 0;
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            bytes += (long) layout.capacity(slab, sc) * SizeClasses.size(sc);
        }
        return bytes;
    }

    /**
     * Frees budget in {@code slab} by lowering the capacity of other classes where it holds no objects,
     * going round the classes from where the last steal stopped; returns the bytes freed.
     */
    private long steal(int slab, int forClass, long bytes) {
        long freed = frontEnd.whileStopped(slab, this::stealStopped, forClass, bytes);
        return freed == SlabLayout.NOT_OWNED ? 0 : freed; // closed under the caller: its miss finds out
    }

    private long stealStopped(SlabLayout stopped, int slab, int forClass, long bytes) {
        long freed = 0;
        int start = stealCursor.get(slab);
        for (int i = 0; i < SizeClasses.COUNT - 1 && freed < bytes; i++) {
            int victim = 1 + (start + i) % (SizeClasses.COUNT - 1);
            if (victim == forClass) {
                continue;
            }
            int size = SizeClasses.size(victim);
            int want = (int) Math.min(Integer.MAX_VALUE, (bytes - freed + size - 1) / size);
            int taken = stopped.shrinkUnused(slab, victim, want);
            freed += (long) taken * size;
            stealCursor.set(slab, victim % (SizeClasses.COUNT - 1));
        }
        capacityBytes.addAndGet(slab, -freed); // while owned: no recount sees the capacity without the charge
        return freed;
    }

    /**
     * Moves every cached object of {@code slab} to the transfer caches, sets its capacities to 0 and,
     * where the OS supports it, hands the slab's slot pages back. A JFR event says why ({@code reason}),
     * how long the slab was stopped and what moved.
     */
    void drain(int slab, AllocatorEvents.Reason reason) {
        AllocatorEvents.Drain event = events.drain();
        long[] buffer = new long[SlabLayout.maxCapacity(1)];
        long[] moved = new long[2]; // objects, bytes: for the event
        frontEnd.whileStopped(slab, (stopped, s, unusedClass, unusedArg) -> {
            long capacity = capacityOf(stopped, s);
            for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
                int n = stopped.drain(s, sc, buffer);
                if (n > 0) {
                    transfer[sc].insertRange(buffer, 0, n);
                    moved[0] += n;
                    moved[1] += (long) n * SizeClasses.size(sc);
                }
            }
            capacityBytes.addAndGet(s, -capacity); // while owned: no recount sees the capacity without the charge
            if (os.canRelease()) {
                os.release(stopped.address() + SlabLayout.releasableOffset(s), SlabLayout.SLAB_BYTES - SlabLayout.RETAINED_BYTES);
            }
            drains.incrementAndGet(s);
            return 0;
        }, 0, 0);
        if (event != null) { // after the slab runs again: the event never holds it up
            event.finish(slab, reason, moved[0], moved[1]);
        }
    }

    void drainAll(AllocatorEvents.Reason reason) {
        for (int slab = 0; slab < slabs; slab++) {
            drain(slab, reason);
        }
    }

    // ---- statistics (racy snapshots) ----

    long objects(int slab, int sc) {
        return layout.length(slab, sc);
    }

    long capacityBytes(int slab) {
        return capacityBytes.get(slab);
    }

    long underflows(int slab) {
        return underflows.get(slab);
    }

    long overflows(int slab) {
        return overflows.get(slab);
    }

    /** Underflows plus overflows: a slab whose count stands still is idle (or hitting every time). */
    long misses(int slab) {
        return underflows.get(slab) + overflows.get(slab);
    }

    long drains(int slab) {
        return drains.get(slab);
    }

    int slabs() {
        return slabs;
    }

    /**
     * What an underflow gives its caller: a {@link Block}, or {@link NoMemory}.
     *
     * <pre>{@code
     * long block = switch (cpuCache.allocate(sc)) {
     *     case CpuCache.Refill.Block(long address) -> address;
     *     case NoMemory noMemory -> throw noMemory.error(size);   // at the public entry point
     * };
     * }</pre>
     */
    sealed interface Refill permits Refill.Block, NoMemory {
        /** One object of the class asked for, the caller's. */
        record Block(long address) implements Refill {
        }
    }
}
