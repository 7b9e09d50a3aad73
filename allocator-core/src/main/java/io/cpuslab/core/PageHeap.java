package io.cpuslab.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The back end: hands out spans of 8 KiB pages from big regions of OS memory, merges free runs with
 * their neighbours, and gives free pages back to the OS.
 *
 * <p>Free runs live in two best-fit sets, one for runs whose memory is still backed (fast to reuse) and
 * one for released runs (the OS took the memory back; it reads as zero and costs a page fault per page
 * when reused). New regions enter as released: they were never touched. Runs merge only with
 * neighbours in the same state: merging a freed span into the untouched rest of its region would force
 * an {@code madvise} on every free and a page fault on every reuse. A backed run joins its released
 * neighbours when it is released itself. Address space is cheap, so a request no single run can serve
 * simply maps a new region.
 *
 * <p>The memory limit (hard) bounds backed memory: pages in use plus free backed pages. Reaching it first
 * releases free backed pages; only a request that cannot fit even then fails, with an
 * {@link OutOfMemoryError} that names the size and the limit, and leaves the heap unchanged. The soft
 * limit never fails a request: above it, every free and every allocation releases free backed runs
 * until backed memory is under it again (or nothing free is left to release).
 *
 * <p>One lock guards everything here: spans are carved rarely (a span feeds a whole batch of objects)
 * and large allocations pay for a system call anyway.
 *
 * <p>A thread can die at any call in here: a {@link StackOverflowError} is thrown at the entry of any
 * method near the stack limit, an {@link OutOfMemoryError} at any Java heap allocation. So every change
 * is ordered to be safe when cut short at any call: it may leak pages or leave a count off, but never
 * puts a page in two free runs, or in a free run and a span in use. The rules: spans and runs are made
 * before anything changes; a free run is retired ({@link Span#MERGED}) before it leaves its set, so
 * neither its page map ends nor an entry left in the set lead to it again; pieces of it are filed only
 * after that.
 */
final class PageHeap {
    /** Regions are reserved at least this big; address space is cheap, pages are touched on use. */
    static final long REGION_BYTES = 64L << 20;
    /** A transparent huge page on x86-64 and on aarch64 with 4 KiB pages. */
    static final long HUGE_PAGE_BYTES = 2L << 20;
    /** Region alignment and size granule: regions are whole hugepages, so the OS can back them with THP. */
    static final long REGION_ALIGNMENT = HUGE_PAGE_BYTES;
    /** Requests above this many pages cannot be addressed at all (48-bit address space). */
    private static final long MAX_PAGES = 1L << (47 - SizeClasses.PAGE_SHIFT);

    private static final Comparator<Span> BEST_FIT =
            Comparator.comparingLong((Span s) -> s.pages).thenComparingLong(s -> s.startPage);
    /** Orders after every run: {@code floor(LARGEST)} is the largest run of a set. */
    private static final Span LARGEST = new Span(Long.MAX_VALUE, Long.MAX_VALUE, 0, Span.MERGED, false);

    private final OsMemory os;
    private final PageMap pageMap;
    /** The native mirror of small spans' classes for the one-call free; null when no front end reads it. */
    private final NativePageMap classes;
    private final long limitPages;
    /** The lower of the two limits: backed memory above it is released eagerly. */
    private final long backedLimitPages;
    private final boolean trackObjects;
    /** Whether regions are advised {@code MADV_HUGEPAGE} (see {@link HugePageSupport}). */
    private final boolean hugePages;
    private final TreeSet<Span> backed = new TreeSet<>(BEST_FIT);
    private final TreeSet<Span> released = new TreeSet<>(BEST_FIT);
    /** {@link #backed} from the largest run down, a live view: its {@code ceiling} is {@code backed}'s {@code floor}. */
    private final NavigableSet<Span> backedLargestFirst = backed.descendingSet();
    private final List<long[]> regions = new ArrayList<>();

    private long mappedBytes;
    private long inUsePages;
    private long backedFreePages;
    private long releasedFreePages;
    private long releasedTotalBytes;
    private boolean closed;

    /**
     * @param memoryLimit   most bytes of backed memory (in use + free backed), Long.MAX_VALUE for none
     * @param trackObjects  checked mode: spans carry a live bit per object
     */
    PageHeap(OsMemory os, PageMap pageMap, long memoryLimit, boolean trackObjects) {
        this(os, pageMap, memoryLimit, Long.MAX_VALUE, trackObjects);
    }

    /** @param softMemoryLimit backed bytes above which free pages are released at once, Long.MAX_VALUE for none */
    PageHeap(OsMemory os, PageMap pageMap, long memoryLimit, long softMemoryLimit, boolean trackObjects) {
        this(os, pageMap, null, memoryLimit, softMemoryLimit, trackObjects);
    }

    /** @param classes the native mirror to keep of small spans' classes, or null for none */
    PageHeap(OsMemory os, PageMap pageMap, NativePageMap classes, long memoryLimit, long softMemoryLimit, boolean trackObjects) {
        this(os, pageMap, classes, memoryLimit, softMemoryLimit, trackObjects, false);
    }

    /** @param hugePages whether the heap is hugepage-aware: decided by {@link HugePageSupport} */
    PageHeap(OsMemory os, PageMap pageMap, NativePageMap classes, long memoryLimit, long softMemoryLimit, boolean trackObjects,
             boolean hugePages) {
        this.os = os;
        this.pageMap = pageMap;
        this.classes = classes;
        this.limitPages = pages(memoryLimit);
        this.backedLimitPages = Math.min(limitPages, pages(softMemoryLimit));
        this.trackObjects = trackObjects;
        this.hugePages = hugePages;
    }

    private static long pages(long limit) {
        return limit == Long.MAX_VALUE ? Long.MAX_VALUE : limit >>> SizeClasses.PAGE_SHIFT;
    }

    /** A new in-use span of {@code pages} pages for size class {@code sizeClass} (0 = large allocation). */
    synchronized Span allocate(long pages, int sizeClass) {
        return allocateAligned(pages, 1, sizeClass);
    }

    /**
     * A new in-use span of {@code pages} pages whose first page number is a multiple of {@code alignPages}
     * (a power of two).
     */
    synchronized Span allocateAligned(long pages, long alignPages, int sizeClass) {
        checkOpen();
        long slack = alignPages - 1;
        if (pages <= 0 || pages > MAX_PAGES - slack) {
            throw outOfMemory(pages, "larger than the address space");
        }
        long need = pages + slack;
        if (inUsePages + pages > limitPages) {
            throw outOfMemory(pages, "memory limit " + Bytes.format(limitPages << SizeClasses.PAGE_SHIFT)
                    + ", in use " + Bytes.format(inUsePages << SizeClasses.PAGE_SHIFT));
        }
        Span run = bestFit(need);
        if (run == null) {
            grow(need);
            run = bestFit(need);
        }
        if (run.state() == Span.FREE_RELEASED && makeRoomUnderLimit(pages)) {
            run = bestFit(need); // releasing may have merged into the chosen run
        }
        // Cut the aligned piece out of the run; head and tail stay free in the run's state. All three spans
        // first, then the run retired, then the pieces filed: a piece filed while the run is still free and
        // findable at its page map ends would be merged back with the run by a neighbour's free if a cut
        // came in between, its pages then in two runs.
        int state = run.state();
        long alignedStart = (run.startPage + slack) & -alignPages;
        long tailPages = run.endPage() - (alignedStart + pages);
        Span head = alignedStart > run.startPage ? new Span(run.startPage, alignedStart - run.startPage, 0, state, false) : null;
        Span tail = tailPages > 0 ? new Span(alignedStart + pages, tailPages, 0, state, false) : null;
        Span span = new Span(alignedStart, pages, sizeClass, Span.IN_USE, trackObjects);
        removeFree(run);
        if (head != null) {
            insertFree(head);
        }
        if (tail != null) {
            insertFree(tail);
        }
        pageMap.set(span.startPage, pages, span);
        if (classes != null && sizeClass != 0) {
            classes.set(span.startPage, pages, sizeClass); // before any of its objects exists for anyone
        }
        inUsePages += pages;
        return span;
    }

    /** Smallest free run of at least {@code pages}, backed runs first. */
    private Span bestFit(long pages) {
        Span probe = new Span(0, pages, 0, Span.MERGED, false);
        Span run = fit(backed, probe, Span.FREE_BACKED);
        return run != null ? run : fit(released, probe, Span.FREE_RELEASED);
    }

    /**
     * The first run of {@code set} at or after {@code probe} in the set's order, dropping left-behind entries
     * on the way: the smallest run not smaller than the probe, or for {@link #backedLargestFirst} the largest.
     */
    private static Span fit(NavigableSet<Span> set, Span probe, int state) {
        Span run;
        while ((run = set.ceiling(probe)) != null && run.state() != state) {
            set.remove(run); // retired, but a cut inside TreeMap's remove left its entry (see removeFree)
        }
        return run;
    }

    /**
     * The largest free backed run, or null. Not {@code isEmpty()} and {@code last()}: {@code isEmpty()} reads
     * a size count that a cut inside TreeMap's put or remove can leave wrong, and {@code last()} of an empty
     * tree throws.
     */
    private Span largestBacked() {
        return fit(backedLargestFirst, LARGEST, Span.FREE_BACKED);
    }

    /**
     * Taking {@code pages} from a released run backs them: releases free backed runs while the limits
     * need it, and says whether it released any.
     */
    private boolean makeRoomUnderLimit(long pages) {
        long over = backedLimitPages == Long.MAX_VALUE ? 0 : inUsePages + backedFreePages + pages - backedLimitPages;
        boolean any = false;
        while (over > 0 && os.canRelease()) {
            Span run = largestBacked();
            if (run == null) {
                break;
            }
            over -= releaseRun(run);
            any = true;
        }
        return any;
    }

    private void grow(long pages) {
        long bytes = Math.max(REGION_BYTES, ((pages << SizeClasses.PAGE_SHIFT) + REGION_ALIGNMENT - 1) & -REGION_ALIGNMENT);
        long base = os.map(bytes, REGION_ALIGNMENT);
        if (base + bytes > 1L << PageMap.ADDRESS_BITS) {
            os.unmap(base, bytes);
            throw outOfMemory(pages, "the OS returned memory above the 48-bit address space");
        }
        if (hugePages) {
            // Advice, not a promise: a region the kernel refuses is still memory, only backed by small pages.
            os.adviseHugePages(base, bytes);
        }
        if (classes != null) {
            try {
                classes.reserve(base >>> SizeClasses.PAGE_SHIFT, bytes >>> SizeClasses.PAGE_SHIFT);
            } catch (OutOfMemoryError e) {
                os.unmap(base, bytes);
                throw e;
            }
        }
        regions.add(new long[] {base, bytes});
        mappedBytes += bytes;
        insertFree(coalesce(base >>> SizeClasses.PAGE_SHIFT, bytes >>> SizeClasses.PAGE_SHIFT,
                os.canRelease() ? Span.FREE_RELEASED : Span.FREE_BACKED));
    }

    /** Gives an in-use span back. The caller has already {@link Span#retire() retired} it. */
    synchronized void free(Span span) {
        checkOpen();
        if (classes != null && span.sizeClass != 0) {
            classes.clear(span.startPage, span.pages); // before its pages can be carved again
        }
        inUsePages -= span.pages;
        insertFree(coalesce(span.startPage, span.pages, Span.FREE_BACKED));
        makeRoomUnderLimit(0);
    }

    /** Whether backed memory (in use + free backed) is above the soft limit (or the hard one). */
    synchronized boolean overSoftLimit() {
        return backedLimitPages != Long.MAX_VALUE && inUsePages + backedFreePages > backedLimitPages;
    }

    /**
     * A new free run in {@code state} over {@code pages} pages from {@code startPage} and the free neighbours
     * in that state, which it retires; the caller files it.
     */
    private Span coalesce(long startPage, long pages, int state) {
        long endPage = startPage + pages;
        Span before = pageMap.get((startPage - 1) << SizeClasses.PAGE_SHIFT);
        boolean withBefore = before != null && before.state() == state && before.endPage() == startPage;
        Span after = pageMap.get(endPage << SizeClasses.PAGE_SHIFT);
        boolean withAfter = after != null && after.state() == state && after.startPage == endPage;
        long first = withBefore ? before.startPage : startPage;
        // Made before a neighbour is retired: an OutOfMemoryError here changes nothing.
        Span run = new Span(first, (withAfter ? after.endPage() : endPage) - first, 0, state, false);
        if (withBefore) {
            removeFree(before);
        }
        if (withAfter) {
            removeFree(after);
        }
        return run;
    }

    /** Files a free run in its set, then makes it findable by its neighbours. */
    private void insertFree(Span run) {
        if (run.state() == Span.FREE_BACKED) {
            if (backed.add(run)) {
                backedFreePages += run.pages;
            }
        } else if (released.add(run)) {
            releasedFreePages += run.pages;
        }
        pageMap.setEnds(run);
    }

    /**
     * Takes a free run out for good. It is retired first: cut anywhere after that store, neither a neighbour
     * (through its page map ends) nor bestFit (through an entry a cut inside TreeMap's remove left behind)
     * takes it again. The counts follow what the set really gave up.
     */
    private void removeFree(Span run) {
        int state = run.state();
        run.state(Span.MERGED);
        if (state == Span.FREE_BACKED) {
            if (backed.remove(run)) {
                backedFreePages -= run.pages;
            }
        } else if (released.remove(run)) {
            releasedFreePages -= run.pages;
        }
    }

    /**
     * Returns up to {@code bytes} of free backed memory to the OS, largest runs first, and says how much
     * was released (whole runs, so it may be more than asked).
     */
    synchronized long release(long bytes) {
        if (closed || !os.canRelease()) {
            return 0;
        }
        long done = 0;
        while (done < bytes) {
            Span run = largestBacked();
            if (run == null) {
                break;
            }
            done += releaseRun(run) << SizeClasses.PAGE_SHIFT;
        }
        return done;
    }

    /** Releases one free backed run and files it (merged) with the released runs; returns its pages. */
    private long releaseRun(Span run) {
        // The released run is made (and its released neighbours retired) before the backed one is retired,
        // and that before its pages join the released run: no prefix leaves them in both.
        Span merged = coalesce(run.startPage, run.pages, Span.FREE_RELEASED);
        removeFree(run);
        os.release(run.start(), run.bytes());
        releasedTotalBytes += run.bytes();
        insertFree(merged);
        return run.pages;
    }

    /** Unmaps every region. Spans handed out before are invalid afterwards. */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (long[] region : regions) {
            os.unmap(region[0], region[1]);
        }
        regions.clear();
        backed.clear();
        released.clear();
        mappedBytes = inUsePages = backedFreePages = releasedFreePages = 0;
        if (classes != null) {
            classes.close(); // the front end closed first: no native reader is left in it
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("allocator is closed");
        }
    }

    private OutOfMemoryError outOfMemory(long pages, String why) {
        return new OutOfMemoryError("cpuslab: cannot allocate " + pages + " pages ("
                + Bytes.format(pages << SizeClasses.PAGE_SHIFT) + "): " + why);
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(mappedBytes, inUsePages << SizeClasses.PAGE_SHIFT, backedFreePages << SizeClasses.PAGE_SHIFT,
                releasedFreePages << SizeClasses.PAGE_SHIFT, releasedTotalBytes, backed.size() + released.size(),
                regions.size(), pageMap.heapBytes(), classes == null ? 0 : classes.mappedBytes());
    }

    /**
     * Page heap numbers at one instant (all taken under the lock).
     *
     * @param nativePageMapBytes address space of the page map's native mirror (not in {@code mappedBytes})
     */
    record Snapshot(long mappedBytes, long inUseBytes, long freeBytes, long releasedBytes, long releasedTotalBytes,
                    int freeRuns, int regions, long pageMapHeapBytes, long nativePageMapBytes) {
    }
}
