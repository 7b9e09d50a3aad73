package io.cpuslab.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.function.IntToLongFunction;

/**
 * Where spans smaller than a hugepage go in a hugepage-aware page heap, after TCMalloc's
 * {@code HugePageFiller} (Temeraire): each 2 MiB hugepage it holds keeps a bitmap of its 256 pages in
 * use, and the filler orders the hugepages by their longest free range, then by pages in use, most
 * first. A span goes to the hugepage whose longest free range is the shortest that still fits it, and of
 * those to the fullest. So long free ranges are kept for the requests that need them, spans pile up in
 * hugepages that are full already, and nearly empty hugepages are left alone to empty out and go back
 * to the page heap whole. Inside a hugepage a span takes the smallest free range it fits in (best fit),
 * at that range's first page of the span's alignment.
 *
 * <p>Only placement lives here: the page heap, under its lock, decides when a hugepage joins or leaves,
 * writes the page maps, calls the OS and keeps the counts. A hugepage also knows which of its free pages
 * were released to the OS (the hugepage is then broken: the kernel backs what is left with small pages).
 *
 * <p>The order holds immutable entries, and a hugepage points at its current one. A cut inside
 * {@link TreeSet}'s own remove (a thread can die at any call) can leave an entry behind; it no longer is
 * its hugepage's entry, and {@link #find} drops it when it comes across it.
 *
 * <pre>{@code
 * HugePageFiller filler = new HugePageFiller();
 * filler.add(new HugePageFiller.HugePage(firstPage));          // a whole free hugepage
 * HugePageFiller.HugePage hugePage = filler.find(3, 1);        // null: bring in a new hugepage
 * int offset = HugePageFiller.place(hugePage, 3, 1);
 * filler.allocate(hugePage, offset, 3);                        // pages firstPage + offset .. + 3 are in use
 * filler.free(hugePage, offset, 3);
 * }</pre>
 */
final class HugePageFiller {
    /** Pages per hugepage. */
    static final int PAGES = (int) (PageHeap.HUGE_PAGE_BYTES >>> SizeClasses.PAGE_SHIFT);
    private static final int WORDS = PAGES / Long.SIZE;

    /** One hugepage of the filler: which of its pages are in use, and which free ones are released. */
    static final class HugePage {
        final long firstPage;
        private final long[] used = new long[WORDS];
        /** Free pages given back to the OS; never a page in use. */
        private final long[] released = new long[WORDS];
        private int usedPages;
        private int releasedPages;
        private int longestFree = PAGES;
        /** Its entry in the filler's order, null while out of it. */
        private Entry entry;

        /** A hugepage with every page free and backed. */
        HugePage(long firstPage) {
            this.firstPage = firstPage;
        }

        int usedPages() {
            return usedPages;
        }

        int releasedPages() {
            return releasedPages;
        }

        /** Free pages still backed by memory. */
        int freeBackedPages() {
            return PAGES - usedPages - releasedPages;
        }

        int longestFree() {
            return longestFree;
        }

        /** The first page at or after {@code from} that is free and backed; {@link #PAGES} if none. */
        int nextFreeBacked(int from) {
            return next(from, i -> ~(used[i] | released[i]));
        }

        /** The first page at or after {@code from} that is in use or released; {@link #PAGES} if none. */
        int nextNotFreeBacked(int from) {
            return next(from, i -> used[i] | released[i]);
        }

        /** How many of the pages {@code [offset, offset + count)} are released. */
        int releasedIn(int offset, int count) {
            int n = 0;
            for (int page = offset; page < offset + count; page++) {
                n += (int) (released[page >>> 6] >>> page) & 1;
            }
            return n;
        }

        private int nextUsed(int from) {
            return next(from, i -> used[i]);
        }

        private int nextFree(int from) {
            return next(from, i -> ~used[i]);
        }

        /** The first page at or after {@code from} whose bit is set in {@code bits}' words; {@link #PAGES} if none. */
        private static int next(int from, IntToLongFunction bits) {
            for (int page = from; page < PAGES; page = (page & -Long.SIZE) + Long.SIZE) {
                long word = bits.applyAsLong(page >>> 6) & (-1L << page);
                if (word != 0) {
                    return (page & -Long.SIZE) + Long.numberOfTrailingZeros(word);
                }
            }
            return PAGES;
        }

        /** Sets or clears the in-use bits of {@code [offset, offset + count)}; in use also means not released. */
        private void mark(int offset, int count, boolean inUse) {
            for (int page = offset; page < offset + count; page++) {
                long bit = 1L << page;
                if (inUse) {
                    used[page >>> 6] |= bit;
                    released[page >>> 6] &= ~bit;
                } else {
                    used[page >>> 6] &= ~bit;
                }
            }
        }

        private int longestFreeRange() {
            int longest = 0;
            for (int start = nextFree(0); start < PAGES; ) {
                int end = nextUsed(start);
                longest = Math.max(longest, end - start);
                start = nextFree(end);
            }
            return longest;
        }

        @Override
        public String toString() {
            return "HugePage[page " + firstPage + ", " + usedPages + " used, " + releasedPages + " released, longest free "
                    + longestFree + "]";
        }
    }

    /** A hugepage's place in the order, as it was when filed. */
    private record Entry(int longestFree, int usedPages, long firstPage, HugePage hugePage) {
    }

    /** Shortest longest-free-range first, then fullest, then lowest address. */
    private static final Comparator<Entry> ORDER = Comparator.comparingInt(Entry::longestFree)
            .thenComparingInt(e -> -e.usedPages()).thenComparingLong(Entry::firstPage);

    private final TreeSet<Entry> order = new TreeSet<>(ORDER);

    /**
     * The hugepage for a span of {@code pages} aligned to {@code alignPages} (at most {@link #PAGES}): of
     * those whose longest free range surely fits it, the one with the shortest, and of those the fullest;
     * null when none fits.
     */
    HugePage find(int pages, int alignPages) {
        // A free range of pages + alignPages - 1 holds an aligned span; a whole free hugepage holds any (it starts aligned).
        Entry probe = new Entry(Math.min(pages + alignPages - 1, PAGES), Integer.MAX_VALUE, Long.MIN_VALUE, null);
        Entry entry;
        while ((entry = order.ceiling(probe)) != null && entry.hugePage().entry != entry) {
            order.remove(entry); // left behind by a cut (see the class comment)
        }
        return entry == null ? null : entry.hugePage();
    }

    /**
     * Where in {@code hugePage} a span of {@code pages} aligned to {@code alignPages} goes: the first aligned
     * page of the smallest free range that holds it, lowest first among equals; -1 if none does.
     */
    static int place(HugePage hugePage, int pages, int alignPages) {
        int best = -1;
        int bestLength = Integer.MAX_VALUE;
        for (int start = hugePage.nextFree(0); start < PAGES; ) {
            int end = hugePage.nextUsed(start);
            int aligned = (start + alignPages - 1) & -alignPages;
            if (aligned + pages <= end && end - start < bestLength) {
                best = aligned;
                bestLength = end - start;
            }
            start = hugePage.nextFree(end);
        }
        return best;
    }

    /** Takes a hugepage in: from now on {@link #find} may choose it. */
    void add(HugePage hugePage) {
        file(hugePage);
    }

    /** Takes a hugepage out for good (it emptied and goes back to the page heap whole). */
    void remove(HugePage hugePage) {
        unfile(hugePage);
    }

    /**
     * Marks {@code [offset, offset + count)} of {@code hugePage} in use, and returns how many of those
     * pages were released (the caller backs them again). A hugepage not yet {@linkplain #add added} stays
     * out of the order: the page heap marks a new one's first pages before it adds it.
     */
    int allocate(HugePage hugePage, int offset, int count) {
        int wasReleased = hugePage.releasedIn(offset, count);
        boolean filed = unfile(hugePage);
        hugePage.mark(offset, count, true);
        hugePage.usedPages += count;
        hugePage.releasedPages -= wasReleased;
        hugePage.longestFree = hugePage.longestFreeRange();
        if (filed) {
            file(hugePage);
        }
        return wasReleased;
    }

    /** Marks {@code [offset, offset + count)} of {@code hugePage} free; the pages stay backed. */
    void free(HugePage hugePage, int offset, int count) {
        boolean filed = unfile(hugePage);
        hugePage.mark(offset, count, false);
        hugePage.usedPages -= count;
        hugePage.longestFree = hugePage.longestFreeRange();
        if (filed) {
            file(hugePage);
        }
    }

    /**
     * Marks the free backed pages {@code [offset, offset + count)} released, after the caller gave them back
     * to the OS. The order does not change: it counts free pages, released or not.
     */
    static void markReleased(HugePage hugePage, int offset, int count) {
        for (int page = offset; page < offset + count; page++) {
            hugePage.released[page >>> 6] |= 1L << page;
        }
        hugePage.releasedPages += count;
    }

    /** Every hugepage in the filler, for statistics and for choosing one to break. */
    List<HugePage> hugePages() {
        List<HugePage> all = new ArrayList<>(order.size());
        for (Entry entry : order) {
            if (entry.hugePage().entry == entry) {
                all.add(entry.hugePage());
            }
        }
        return all;
    }

    /** Forgets every hugepage (the heap closed). */
    void clear() {
        order.clear();
    }

    private void file(HugePage hugePage) {
        Entry entry = new Entry(hugePage.longestFree, hugePage.usedPages, hugePage.firstPage, hugePage);
        hugePage.entry = entry;
        if (!order.add(entry)) {
            // An equal entry is one a cut left behind for this very hugepage (others differ in firstPage):
            // the set would keep it and find would drop it, hiding the hugepage. This one takes its place.
            order.remove(entry);
            order.add(entry);
        }
    }

    /**
     * Out of the order, saying whether it was in: forgotten first, so an entry a cut leaves in the set is
     * already not its hugepage's. A hugepage a cut kept out is not chosen again; its pages come back when it
     * empties.
     */
    private boolean unfile(HugePage hugePage) {
        Entry entry = hugePage.entry;
        hugePage.entry = null;
        if (entry != null) {
            order.remove(entry);
        }
        return entry != null;
    }
}
