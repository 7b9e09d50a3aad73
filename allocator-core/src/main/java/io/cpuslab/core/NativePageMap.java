package io.cpuslab.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The page map's native mirror for the one-call free of a native front end, TCMalloc's
 * {@code PageMap::sizeclass} cache: for every page of a small span, its size class and the page's index
 * in the span, in native memory where the free section reads it (layout in {@code cpuslab_rseq.h}):
 *
 * <pre>
 * root   +0         u64  hint: the number of the first leaf mapped (all ones before)
 *        +8         u64  hint: its address (0 before)
 *        +16        2^17 u64, the address of each leaf, 0 while it has none (48-bit addresses)
 * leaf   2^18 u16   one per 8 KiB page: size class | page index in its span &lt;&lt; 8; 0 for no small span
 * </pre>
 *
 * A leaf covers 2 GiB, so the first one usually covers the whole heap: the native lookup compares the
 * address's leaf number with the hint and then needs one load after the address instead of two.
 *
 * With the index the native code finds the span's start, and with the class's size the offset of an
 * address in it: an address that is not the start of a block (interior, or in the span's unused tail)
 * goes to the Java slow path, which says what is wrong with it.
 *
 * <h2>Why a free never sees an entry older than its block</h2>
 * The page heap writes a span's entries under its lock when it carves the span for a class
 * ({@link #set}), before the span's objects exist for anyone, and clears them under the same lock before
 * the span's pages go back into a free run ({@link #clear}). A block then reaches the thread that frees
 * it only through a chain of happens-before edges that starts after that write: the central free list's
 * and the transfer cache's locks, the per-CPU slab (a slot written by a thread on one CPU and read by
 * the next thread on that CPU, with the context switch between them), and the application's own hand-off
 * of the address. So the free reads this span's entry or a later one; a later one exists only if the
 * span went back to the page heap, that is once all of its blocks were freed, so the free is a double
 * free. An entry is 16 bits, written whole; the x86 free reads its two bytes with two loads, which could
 * see halves of two entries only while such a double free races the span's pages being carved again.
 *
 * <p>Leaves are mapped when a region joins the page heap ({@link #reserve}), so writing an entry never
 * allocates and cannot fail. The native readers run inside rseq critical sections that read the root's
 * address from the allocator's descriptor first; close sets it to 0 and fences every CPU before
 * {@link #close} unmaps anything, so no reader is left in the map.
 *
 * <pre>{@code
 * NativePageMap classes = new NativePageMap(os);
 * classes.reserve(regionFirstPage, regionPages);    // when a region is mapped
 * classes.set(span.startPage, span.pages, sizeClass); // when a span is carved for a class
 * classes.clear(span.startPage, span.pages);          // before its pages are free again
 * }</pre>
 *
 * <p>Not final: the page heap's cut tests stand in a double that dies at a chosen {@link #set} or
 * {@link #clear}, as a thread can die at any call.
 */
public class NativePageMap {
    // Public: the native library's free sections read this layout, and checks its own against these when it loads.
    /** Page-number bits a leaf covers: 2 GiB of address space per leaf. */
    public static final int LEAF_BITS = 18;
    private static final int LEAF_MASK = (1 << LEAF_BITS) - 1;
    public static final int ROOT_ENTRIES = 1 << (PageMap.ADDRESS_BITS - SizeClasses.PAGE_SHIFT - LEAF_BITS);
    public static final long HINT_KEY = 0;
    public static final long HINT_LEAF = 8;
    public static final long ROOT = 16;
    /** Whole pages: the OS maps nothing smaller. */
    private static final long ROOT_BYTES = (ROOT + 8L * ROOT_ENTRIES + SizeClasses.PAGE_SIZE - 1) & -SizeClasses.PAGE_SIZE;
    private static final long LEAF_BYTES = 2L << LEAF_BITS;
    /** Where the page's index in its span sits in an entry. */
    public static final int INDEX_SHIFT = 8;
    private static final VarHandle ENTRY = ValueLayout.JAVA_LONG.varHandle();

    private final OsMemory os;
    private final MemorySegment root;
    /** Guarded by the page heap's lock, like every write here. */
    private long mappedBytes;

    /** Maps the root; the leaves come with {@link #reserve}. */
    NativePageMap(OsMemory os) {
        this.os = os;
        this.root = MemorySegment.ofAddress(os.map(ROOT_BYTES, SizeClasses.PAGE_SIZE)).reinterpret(ROOT_BYTES);
        this.mappedBytes = ROOT_BYTES;
        root.set(ValueLayout.JAVA_LONG, HINT_KEY, -1L); // no leaf has this number: the hint is off
    }

    /** The root's address, for the native descriptor. */
    public long rootAddress() {
        return root.address();
    }

    /**
     * Maps the leaves that cover {@code pages} pages from {@code firstPage}, where missing. Caller holds
     * the page heap lock.
     *
     * @throws OutOfMemoryError when the OS refuses a leaf; leaves mapped before stay
     */
    void reserve(long firstPage, long pages) {
        for (long index = firstPage >>> LEAF_BITS, last = (firstPage + pages - 1) >>> LEAF_BITS; index <= last; index++) {
            if (leafAddress(index) == 0) {
                long leaf = os.map(LEAF_BYTES, SizeClasses.PAGE_SIZE);
                mappedBytes += LEAF_BYTES;
                // Release stores: a reader that finds the leaf finds it zeroed (mmap). The hint is set once,
                // address before number: a reader that sees the number with the address still 0 misses.
                ENTRY.setRelease(root, ROOT + 8 * index, leaf);
                if ((long) ENTRY.get(root, HINT_LEAF) == 0) {
                    ENTRY.setRelease(root, HINT_LEAF, leaf);
                    ENTRY.setRelease(root, HINT_KEY, index);
                }
            }
        }
    }

    /**
     * Points the {@code pages} pages of a span carved for {@code sizeClass} at it. Caller holds the page
     * heap lock and has {@linkplain #reserve reserved} the pages.
     */
    void set(long firstPage, long pages, int sizeClass) {
        for (int i = 0; i < pages; i++) {
            write(firstPage + i, (short) (sizeClass | i << INDEX_SHIFT));
        }
    }

    /** Forgets the span's pages, before they join a free run. Caller holds the page heap lock. */
    void clear(long firstPage, long pages) {
        for (long page = firstPage, end = firstPage + pages; page < end; page++) {
            write(page, (short) 0);
        }
    }

    /** The entry of {@code page}: for tests (and the Java side never needs it otherwise). */
    int entry(long page) {
        long leaf = leafAddress(page >>> LEAF_BITS);
        return leaf == 0 ? 0 : leaf(leaf).getAtIndex(ValueLayout.JAVA_SHORT, page & LEAF_MASK) & 0xFFFF;
    }

    private void write(long page, short entry) {
        leaf(leafAddress(page >>> LEAF_BITS)).setAtIndex(ValueLayout.JAVA_SHORT, page & LEAF_MASK, entry);
    }

    private long leafAddress(long index) {
        return root.get(ValueLayout.JAVA_LONG, ROOT + 8 * index);
    }

    private static MemorySegment leaf(long address) {
        return MemorySegment.ofAddress(address).reinterpret(LEAF_BYTES);
    }

    /** Address space held, root and leaves. Caller holds the page heap lock. */
    long mappedBytes() {
        return mappedBytes;
    }

    /**
     * Unmaps everything. Only once no native reader can be in the map (the front end closed) and no
     * writer can come (the page heap closed). Every unmap is tried whatever the ones before threw (it is
     * called once), and the first failure is thrown with the later ones suppressed in it.
     */
    void close() {
        Steps unmaps = new Steps(null);
        for (int index = 0; index < ROOT_ENTRIES; index++) {
            long leaf = leafAddress(index);
            if (leaf != 0) {
                unmaps.run(() -> os.unmap(leaf, LEAF_BYTES));
            }
        }
        unmaps.run(() -> os.unmap(root.address(), ROOT_BYTES)); // last: the leaves' addresses are read from it
        mappedBytes = 0;
        unmaps.rethrow();
    }
}
