package io.cpuslab.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
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
 */
final class PageHeap {
    /** Regions are reserved at least this big; address space is cheap, pages are touched on use. */
    static final long REGION_BYTES = 64L << 20;
    /** Region alignment: lets the OS back the heap with transparent huge pages. */
    static final long REGION_ALIGNMENT = 2L << 20;
    /** Requests above this many pages cannot be addressed at all (48-bit address space). */
    private static final long MAX_PAGES = 1L << (47 - SizeClasses.PAGE_SHIFT);

    private static final Comparator<Span> BEST_FIT =
            Comparator.comparingLong((Span s) -> s.pages).thenComparingLong(s -> s.startPage);

    private final OsMemory os;
    private final PageMap pageMap;
    private final long limitPages;
    /** The lower of the two limits: backed memory above it is released eagerly. */
    private final long backedLimitPages;
    private final boolean trackObjects;
    private final TreeSet<Span> backed = new TreeSet<>(BEST_FIT);
    private final TreeSet<Span> released = new TreeSet<>(BEST_FIT);
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
        this.os = os;
        this.pageMap = pageMap;
        this.limitPages = pages(memoryLimit);
        this.backedLimitPages = Math.min(limitPages, pages(softMemoryLimit));
        this.trackObjects = trackObjects;
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
        // Cut the aligned piece out of the run; head and tail stay free in the run's state.
        long alignedStart = (run.startPage + slack) & -alignPages;
        removeFree(run);
        if (alignedStart > run.startPage) {
            insertFree(new Span(run.startPage, alignedStart - run.startPage, 0, run.state(), false));
        }
        long tail = run.endPage() - (alignedStart + pages);
        if (tail > 0) {
            insertFree(new Span(alignedStart + pages, tail, 0, run.state(), false));
        }
        run.state(Span.MERGED);
        Span span = new Span(alignedStart, pages, sizeClass, Span.IN_USE, trackObjects);
        pageMap.set(span.startPage, pages, span);
        inUsePages += pages;
        return span;
    }

    /** Smallest free run of at least {@code pages}, backed runs first. */
    private Span bestFit(long pages) {
        Span probe = new Span(0, pages, 0, Span.MERGED, false);
        Span run = backed.ceiling(probe);
        return run != null ? run : released.ceiling(probe);
    }

    /**
     * Taking {@code pages} from a released run backs them: releases free backed runs while the limits
     * need it, and says whether it released any.
     */
    private boolean makeRoomUnderLimit(long pages) {
        long over = backedLimitPages == Long.MAX_VALUE ? 0 : inUsePages + backedFreePages + pages - backedLimitPages;
        boolean any = false;
        while (over > 0 && !backed.isEmpty() && os.canRelease()) {
            over -= releaseRun(backed.last());
            any = true;
        }
        return any;
    }

    private void grow(long pages) {
        long bytes = Math.max(REGION_BYTES, ((pages << SizeClasses.PAGE_SHIFT) + REGION_ALIGNMENT - 1) & -REGION_ALIGNMENT);
        long base = os.map(bytes, REGION_ALIGNMENT);
        if (base + bytes > 1L << 48) {
            os.unmap(base, bytes);
            throw outOfMemory(pages, "the OS returned memory above the 48-bit address space");
        }
        regions.add(new long[] {base, bytes});
        mappedBytes += bytes;
        Span run = new Span(base >>> SizeClasses.PAGE_SHIFT, bytes >>> SizeClasses.PAGE_SHIFT, 0,
                os.canRelease() ? Span.FREE_RELEASED : Span.FREE_BACKED, false);
        insertFree(coalesce(run));
    }

    /** Gives an in-use span back. The caller has already {@link Span#retire() retired} it. */
    synchronized void free(Span span) {
        checkOpen();
        inUsePages -= span.pages;
        Span run = new Span(span.startPage, span.pages, 0, Span.FREE_BACKED, false);
        insertFree(coalesce(run));
        makeRoomUnderLimit(0);
    }

    /** Whether backed memory (in use + free backed) is above the soft limit (or the hard one). */
    synchronized boolean overSoftLimit() {
        return backedLimitPages != Long.MAX_VALUE && inUsePages + backedFreePages > backedLimitPages;
    }

    /** Merges {@code run} (not yet in a free set) with free neighbours in its state; returns the merged run. */
    private Span coalesce(Span run) {
        Span before = pageMap.get((run.startPage - 1) << SizeClasses.PAGE_SHIFT);
        if (before != null && before.state() == run.state() && before.endPage() == run.startPage) {
            removeFree(before);
            run = merge(before, run);
        }
        Span after = pageMap.get(run.endPage() << SizeClasses.PAGE_SHIFT);
        if (after != null && after.state() == run.state() && after.startPage == run.endPage()) {
            removeFree(after);
            run = merge(run, after);
        }
        return run;
    }

    /** One run covering two adjacent runs of the same state; both become {@link Span#MERGED}. */
    private static Span merge(Span low, Span high) {
        Span merged = new Span(low.startPage, low.pages + high.pages, 0, low.state(), false);
        low.state(Span.MERGED);
        high.state(Span.MERGED);
        return merged;
    }

    private void insertFree(Span run) {
        if (run.state() == Span.FREE_BACKED) {
            backed.add(run);
            backedFreePages += run.pages;
        } else {
            released.add(run);
            releasedFreePages += run.pages;
        }
        pageMap.setEnds(run);
    }

    private void removeFree(Span run) {
        if (run.state() == Span.FREE_BACKED) {
            backed.remove(run);
            backedFreePages -= run.pages;
        } else {
            released.remove(run);
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
        while (done < bytes && !backed.isEmpty()) {
            done += releaseRun(backed.last()) << SizeClasses.PAGE_SHIFT;
        }
        return done;
    }

    /** Releases one free backed run and files it (merged) with the released runs; returns its pages. */
    private long releaseRun(Span run) {
        long pages = run.pages;
        removeFree(run);
        os.release(run.start(), run.bytes());
        releasedTotalBytes += run.bytes();
        Span copy = new Span(run.startPage, run.pages, 0, Span.FREE_RELEASED, false);
        run.state(Span.MERGED);
        insertFree(coalesce(copy));
        return pages;
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
                regions.size(), pageMap.heapBytes());
    }

    /** Page heap numbers at one instant (all taken under the lock). */
    record Snapshot(long mappedBytes, long inUseBytes, long freeBytes, long releasedBytes, long releasedTotalBytes,
                    int freeRuns, int regions, long pageMapHeapBytes) {
    }
}
