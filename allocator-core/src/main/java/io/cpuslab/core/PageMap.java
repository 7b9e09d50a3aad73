package io.cpuslab.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Radix tree from page number to {@link Span}, for unsized {@code free}, {@code usableSize} and for
 * rejecting addresses the allocator never handed out.
 *
 * <p>Two levels cover a 48-bit address space with 8 KiB pages: 2^17 root slots, each a lazily created
 * leaf of 2^18 spans (2 GiB of address space). Writers hold the page heap lock; readers take no lock.
 * Entries are published with release stores and read with acquire loads, so a reader that sees a span
 * also sees its fields, whichever thread carved it.
 *
 * <p>Not final: tests stand in a double that fails at a chosen call, to cut page heap changes short.
 */
class PageMap {
    /** Addresses the page maps cover (x86-64 and aarch64 user space, 4-level page tables). */
    static final int ADDRESS_BITS = 48;
    private static final int PAGE_NUMBER_BITS = ADDRESS_BITS - SizeClasses.PAGE_SHIFT;
    private static final int LEAF_BITS = 18;
    private static final int ROOT_BITS = PAGE_NUMBER_BITS - LEAF_BITS;
    private static final int LEAF_MASK = (1 << LEAF_BITS) - 1;
    /** Bytes of Java heap one leaf takes with compressed references; for the metadata report. */
    static final long LEAF_BYTES = 4L << LEAF_BITS;

    private static final VarHandle ROOT = MethodHandles.arrayElementVarHandle(Span[][].class);
    private static final VarHandle LEAF = MethodHandles.arrayElementVarHandle(Span[].class);

    private final Span[][] root = new Span[1 << ROOT_BITS][];
    private int leaves;

    /** The span covering {@code address}, or null when no span ever covered its page. */
    Span get(long address) {
        long page = address >>> SizeClasses.PAGE_SHIFT;
        if ((page >>> PAGE_NUMBER_BITS) != 0) {
            return null;
        }
        Span[] leaf = (Span[]) ROOT.getAcquire(root, (int) (page >>> LEAF_BITS));
        return leaf == null ? null : (Span) LEAF.getAcquire(leaf, (int) (page & LEAF_MASK));
    }

    /** Points {@code count} pages from {@code firstPage} at {@code span}. Caller holds the page heap lock. */
    void set(long firstPage, long count, Span span) {
        for (long page = firstPage, end = firstPage + count; page < end; page++) {
            LEAF.setRelease(leaf(page), (int) (page & LEAF_MASK), span);
        }
    }

    /** Points the first and last page of a free run at it: enough for neighbours to find it when merging. */
    void setEnds(Span run) {
        set(run.startPage, 1, run);
        set(run.endPage() - 1, 1, run);
    }

    private Span[] leaf(long page) {
        int index = (int) (page >>> LEAF_BITS);
        Span[] leaf = root[index];
        if (leaf == null) {
            leaf = new Span[1 << LEAF_BITS];
            ROOT.setRelease(root, index, leaf);
            leaves++;
        }
        return leaf;
    }

    /** Java heap bytes held by leaves. Caller holds the page heap lock. */
    long heapBytes() {
        return leaves * LEAF_BYTES;
    }
}
