package io.cpuslab.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A run of pages: either in use (carved into objects of one size class, or one large allocation) or
 * a free run in the page heap.
 *
 * <p>In-use spans are created fresh for every allocation from the page heap and never become in use
 * again once freed, so a stale page-map entry can only ever point to a span whose state says it is not
 * in use. Free runs likewise: a split or merge makes new runs and retires the old ones as {@link #MERGED}
 * for good, so a stale reference to a run (in the page map, or an entry a cut left in a free set) never
 * leads to pages that are now part of another run. Free runs are only touched under the page heap's
 * lock. The object bookkeeping of small spans ({@link #freeIndexes}, bucket links) is guarded by the
 * owning {@link CentralFreeList}'s lock. Nothing is ever written into the user's memory.
 */
final class Span implements PageHeap.Allocation {
    static final int IN_USE = 1;
    /** An in-use span that was given back; terminal. */
    static final int RETIRED = 2;
    static final int FREE_BACKED = 3;
    static final int FREE_RELEASED = 4;
    /** A free run that is one no more: merged into a neighbour, carved up or released; terminal. */
    static final int MERGED = 5;

    private static final VarHandle STATE;
    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Span.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    long startPage;
    long pages;
    /** 0 for large allocations and free runs. */
    final int sizeClass;
    /**
     * A large span holding a guarded block: the block's address (it ends right at the span's last page,
     * which is {@code PROT_NONE}); 0 otherwise. Set before the block is handed out.
     */
    long guardedBlock;
    /**
     * In a hugepage-aware heap, the filler's hugepage that holds this in-use span's pages below a hugepage:
     * all of a small span, the tail of a large one; null when the span is whole hugepages, and in other
     * heaps. Set before the span is handed out.
     */
    HugePageFiller.HugePage hugePage;
    private volatile int state;

    // Small spans only, guarded by the CentralFreeList lock.
    short[] freeIndexes;
    int freeCount;
    int bucket = -1;
    Span prev;
    Span next;
    /** Checked mode: one bit per object, set while the application owns it. */
    final long[] liveBits;
    /** Checked mode: one bit per object, set once it was freed (and so poisoned) at least once. */
    final long[] poisonedBits;
    /** Checked mode: the size asked for each object (for a large span, of its one block); the canary follows it. */
    final long[] requested;

    Span(long startPage, long pages, int sizeClass, int state, boolean tracked) {
        this.startPage = startPage;
        this.pages = pages;
        this.sizeClass = sizeClass;
        this.state = state;
        int objects = sizeClass == 0 ? 1 : SizeClasses.objectsPerSpan(sizeClass);
        this.liveBits = tracked ? new long[(objects + 63) >>> 6] : null;
        this.poisonedBits = tracked ? new long[(objects + 63) >>> 6] : null;
        this.requested = tracked ? new long[objects] : null;
    }

    long start() {
        return startPage << SizeClasses.PAGE_SHIFT;
    }

    long bytes() {
        return pages << SizeClasses.PAGE_SHIFT;
    }

    /** Index of the object starting at {@code address} in this small span, or -1 if no object starts there. */
    int objectIndex(long address) {
        return SizeClasses.objectIndex(sizeClass, address - start());
    }

    /** Where the block of an in-use large span starts. */
    long blockStart() {
        return guardedBlock != 0 ? guardedBlock : start();
    }

    long endPage() {
        return startPage + pages;
    }

    int state() {
        return state;
    }

    void state(int newState) {
        state = newState;
    }

    /** Atomically retires an in-use span; false if it was already given back (a double free). */
    boolean retire() {
        return STATE.compareAndSet(this, IN_USE, RETIRED);
    }

    /** Checked mode: marks object {@code index} as owned by the application; false if it already was. */
    boolean markLive(int index) {
        long bit = 1L << index;
        return ((long) BITS.getAndBitwiseOr(liveBits, index >>> 6, bit) & bit) == 0;
    }

    /** Checked mode: marks object {@code index} as given back; false if it was not owned (a double free). */
    boolean markFreed(int index) {
        long bit = 1L << index;
        return ((long) BITS.getAndBitwiseAnd(liveBits, index >>> 6, ~bit) & bit) != 0;
    }

    boolean isLive(int index) {
        return ((long) BITS.getOpaque(liveBits, index >>> 6) & (1L << index)) != 0;
    }

    /** Checked mode: object {@code index} now holds poison; published with the free that follows. */
    void markPoisoned(int index) {
        BITS.getAndBitwiseOr(poisonedBits, index >>> 6, 1L << index);
    }

    boolean isPoisoned(int index) {
        return ((long) BITS.getOpaque(poisonedBits, index >>> 6) & (1L << index)) != 0;
    }

    @Override
    public String toString() {
        return "Span[0x" + Long.toHexString(start()) + ", " + pages + " pages, class " + sizeClass + ", state " + state + "]";
    }
}
