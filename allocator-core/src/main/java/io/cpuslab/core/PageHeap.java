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
 * <p>A hugepage-aware heap (TCMalloc's Temeraire; {@link HugePageSupport} decides) advises its regions
 * {@code MADV_HUGEPAGE} and keeps its free runs whole 2 MiB hugepages. Spans below a hugepage go to the
 * {@link HugePageFiller}, which packs them into the fullest hugepage that fits and takes a whole free
 * hugepage from the runs when none does; a hugepage whose spans all came back returns to the runs whole.
 * Spans of a hugepage or more are whole hugepages from the runs, and the pages of the last one they do
 * not need go to the filler. Releasing gives back whole free hugepages (the free runs); free pages inside
 * hugepages in use are released only when a limit demands it, which breaks those hugepages (the kernel
 * then backs them with small pages), the one with the most free backed pages first.
 *
 * <p>The memory limit (hard) bounds backed memory: pages in use plus free backed pages. Reaching it first
 * releases free backed pages; only a request that cannot fit even then is refused, with a {@link NoMemory}
 * that names the size and the limit, and leaves the heap unchanged. The soft
 * limit never fails a request: above it, every free and every allocation releases free backed runs
 * until backed memory is under it again (or nothing free is left to release).
 *
 * <p>One lock guards everything here: spans are carved rarely (a span feeds a whole batch of objects)
 * and large allocations pay for a system call anyway. For the same reason growth, releases to the OS and
 * limit hits are JFR events ({@link AllocatorEvents}) here: each already costs a system call.
 *
 * <p>A thread can die at any call in here: a {@link StackOverflowError} is thrown at the entry of any
 * method near the stack limit, an {@link OutOfMemoryError} at any Java heap allocation. So every change
 * is ordered to be safe when cut short at any call: it may leak pages or leave a count off, but never
 * puts a page in two free runs, or in a free run and a span in use. The rules: spans and runs are made
 * before anything changes; a free run is retired ({@link Span#MERGED}) before it leaves its set, so
 * neither its page map ends nor an entry left in the set lead to it again; pieces of it are filed only
 * after that.
 *
 * <p>No memory is an answer, not an error: {@link #allocate} returns the span, or the {@link NoMemory} that
 * says why there is none (the limit, the address space, the OS).
 *
 * <pre>{@code
 * switch (pageHeap.allocate(pages, sizeClass)) {
 *     case Span span -> ...;           // in use, and in the page map
 *     case NoMemory noMemory -> ...;   // the heap is unchanged; noMemory.why() says what stood in the way
 * }
 * }</pre>
 */
final class PageHeap {
    /** What the page heap gives for a request: the span, or why there is none. */
    sealed interface Allocation permits Span, NoMemory {
    }

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
    /** The limit {@link #backedLimitPages} is: the soft one where it is the lower, else the hard one. */
    private final AllocatorEvents.Reason backedLimit;
    private final boolean trackObjects;
    private final AllocatorEvents events;
    /** Whether regions are advised {@code MADV_HUGEPAGE} (see {@link HugePageSupport}). */
    private final boolean hugePages;
    private final TreeSet<Span> backed = new TreeSet<>(BEST_FIT);
    private final TreeSet<Span> released = new TreeSet<>(BEST_FIT);
    /** Spans below a hugepage, in a hugepage-aware heap. */
    private final HugePageFiller filler = new HugePageFiller();
    /** {@link #backed} from the largest run down, a live view: its {@code ceiling} is {@code backed}'s {@code floor}. */
    private final NavigableSet<Span> backedLargestFirst = backed.descendingSet();
    private final List<long[]> regions = new ArrayList<>();

    private long mappedBytes;
    private long inUsePages;
    private long backedFreePages;
    private long releasedFreePages;
    private long releasedTotalBytes;
    /** Times a hugepage of the filler was broken (some of its free pages released) since start. */
    private long brokenHugePages;
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
        // A page heap of its own (tests): its events name no allocator.
        this(os, pageMap, classes, memoryLimit, softMemoryLimit, trackObjects, hugePages, new AllocatorEvents(""));
    }

    /**
     * @param hugePages whether the heap is hugepage-aware: decided by {@link HugePageSupport}
     * @param events    the JFR events of the allocator this heap belongs to
     */
    PageHeap(OsMemory os, PageMap pageMap, NativePageMap classes, long memoryLimit, long softMemoryLimit, boolean trackObjects,
             boolean hugePages, AllocatorEvents events) {
        this.os = os;
        this.pageMap = pageMap;
        this.classes = classes;
        this.limitPages = pages(memoryLimit);
        this.backedLimitPages = Math.min(limitPages, pages(softMemoryLimit));
        this.backedLimit = backedLimitPages < limitPages ? AllocatorEvents.Reason.SOFT_LIMIT : AllocatorEvents.Reason.MEMORY_LIMIT;
        this.trackObjects = trackObjects;
        this.events = events;
        this.hugePages = hugePages;
    }

    private static long pages(long limit) {
        return limit == Long.MAX_VALUE ? Long.MAX_VALUE : limit >>> SizeClasses.PAGE_SHIFT;
    }

    /**
     * A new in-use span of {@code pages} pages for size class {@code sizeClass} (0 = large allocation), or
     * {@link NoMemory} when none can be had; the heap is then unchanged.
     */
    synchronized Allocation allocate(long pages, int sizeClass) {
        return allocateAligned(pages, 1, sizeClass);
    }

    /**
     * A new in-use span of {@code pages} pages whose first page number is a multiple of {@code alignPages}
     * (a power of two), or {@link NoMemory} when none can be had; the heap is then unchanged.
     */
    synchronized Allocation allocateAligned(long pages, long alignPages, int sizeClass) {
        checkOpen();
        if (pages <= 0 || pages > MAX_PAGES - (alignPages - 1)) {
            return new NoMemory(pages, "larger than the address space"
                    + (alignPages > 1 ? " with an alignment of " + Bytes.format(alignPages << SizeClasses.PAGE_SHIFT) : ""));
        }
        if (inUsePages + pages > limitPages) {
            events.limitHit(AllocatorEvents.Reason.MEMORY_LIMIT, limitPages << SizeClasses.PAGE_SHIFT,
                    (inUsePages + backedFreePages) << SizeClasses.PAGE_SHIFT, pages << SizeClasses.PAGE_SHIFT, 0, true);
            return new NoMemory(pages, "memory limit " + Bytes.format(limitPages << SizeClasses.PAGE_SHIFT)
                    + ", in use " + Bytes.format(inUsePages << SizeClasses.PAGE_SHIFT));
        }
        Allocation carved;
        if (!hugePages) {
            carved = allocateInRun(pages, alignPages, sizeClass);
        } else if (pages < HugePageFiller.PAGES && alignPages <= HugePageFiller.PAGES) {
            carved = allocateInFiller((int) pages, (int) alignPages, sizeClass);
        } else {
            carved = allocateHugePages(pages, Math.max(alignPages, HugePageFiller.PAGES), sizeClass);
        }
        return switch (carved) {
            case Span span -> {
                pageMap.set(span.startPage, pages, span);
                if (classes != null && sizeClass != 0) {
                    classes.set(span.startPage, pages, sizeClass); // before any of its objects exists for anyone
                }
                yield span;
            }
            // A refusal below names the run it looked for (with alignment slack, or a whole hugepage).
            case NoMemory noMemory -> new NoMemory(pages, noMemory.why());
        };
    }

    /** A span from a free run of a heap that is not hugepage-aware. */
    private Allocation allocateInRun(long pages, long alignPages, int sizeClass) {
        Allocation found = runFor(pages, alignPages);
        if (!(found instanceof Span run)) {
            return found;
        }
        long start = (run.startPage + alignPages - 1) & -alignPages;
        Span span = new Span(start, pages, sizeClass, Span.IN_USE, trackObjects); // made before anything changes
        carve(run, start, pages);
        inUsePages += pages;
        return span;
    }

    /**
     * A free run that holds {@code pages} pages aligned to {@code alignPages}, mapping a region if none does,
     * and under the limits when taking from a released run backs memory; or why no region could be mapped.
     */
    private Allocation runFor(long pages, long alignPages) {
        // In a hugepage-aware heap every run starts on a hugepage and is whole hugepages: less slack does.
        long need = pages + alignPages - (hugePages ? HugePageFiller.PAGES : 1);
        Span run = bestFit(need);
        if (run == null) {
            Allocation grown = grow(need);
            if (!(grown instanceof Span region)) {
                return grown;
            }
            run = region;
        }
        if (run.state() == Span.FREE_RELEASED && makeRoomUnderLimit(pages)) {
            run = bestFit(need); // releasing may have merged into the chosen run
        }
        return run;
    }

    /**
     * Takes {@code [start, start + pages)} out of the free run {@code run}; head and tail stay free in the
     * run's state. Both pieces first, then the run retired, then the pieces filed: a
     * piece filed while the run is still free and findable at its page map ends would be merged back with
     * the run by a neighbour's free if a cut came in between, its pages then in two runs.
     */
    private void carve(Span run, long start, long pages) {
        int state = run.state();
        long tailPages = run.endPage() - (start + pages);
        Span head = start > run.startPage ? new Span(run.startPage, start - run.startPage, 0, state, false) : null;
        Span tail = tailPages > 0 ? new Span(start + pages, tailPages, 0, state, false) : null;
        removeFree(run);
        if (head != null) {
            insertFree(head);
        }
        if (tail != null) {
            insertFree(tail);
        }
    }

    /**
     * A span below a hugepage, from the filler: in the hugepage it chooses, or in a whole hugepage taken
     * from the free runs when none fits.
     */
    private Allocation allocateInFiller(int pages, int alignPages, int sizeClass) {
        HugePageFiller.HugePage hugePage = filler.find(pages, alignPages);
        if (hugePage == null) {
            Allocation found = runFor(HugePageFiller.PAGES, HugePageFiller.PAGES);
            if (!(found instanceof Span run)) {
                return found;
            }
            hugePage = takeHugePage(run);
        }
        int offset = HugePageFiller.place(hugePage, pages, alignPages);
        Span span = new Span(hugePage.firstPage + offset, pages, sizeClass, Span.IN_USE, trackObjects);
        span.hugePage = hugePage;
        int releasedHere = hugePage.releasedIn(offset, pages);
        if (releasedHere > 0) {
            makeRoomUnderLimit(releasedHere); // the span backs released pages of a broken hugepage again
        }
        int backedAgain = filler.allocate(hugePage, offset, pages);
        releasedFreePages -= backedAgain;
        backedFreePages -= pages - backedAgain;
        inUsePages += pages;
        return span;
    }

    /**
     * A whole free hugepage taken from the free run {@code run} into the filler. Its pages count as backed
     * from now on, even when it comes from a released run: the first touch makes the kernel back all 2 MiB.
     */
    private HugePageFiller.HugePage takeHugePage(Span run) {
        HugePageFiller.HugePage hugePage = new HugePageFiller.HugePage(run.startPage);
        carve(run, run.startPage, HugePageFiller.PAGES);
        backedFreePages += HugePageFiller.PAGES;
        filler.add(hugePage);
        return hugePage;
    }

    /**
     * A span of a hugepage or more (or aligned beyond one): whole hugepages from the free runs. The pages
     * of its last hugepage that it does not need go to the filler, as TCMalloc donates them, so a 2.1 MiB
     * span does not hold 4 MiB.
     */
    private Allocation allocateHugePages(long pages, long alignPages, int sizeClass) {
        long runPages = (pages + HugePageFiller.PAGES - 1) & -HugePageFiller.PAGES;
        Allocation found = runFor(runPages, alignPages);
        if (!(found instanceof Span run)) {
            return found;
        }
        long start = (run.startPage + alignPages - 1) & -alignPages;
        int tailUsed = (int) (pages & (HugePageFiller.PAGES - 1));
        // Made before anything changes.
        Span span = new Span(start, pages, sizeClass, Span.IN_USE, trackObjects);
        HugePageFiller.HugePage tail = tailUsed == 0 ? null
                : new HugePageFiller.HugePage(start + runPages - HugePageFiller.PAGES);
        carve(run, start, runPages);
        inUsePages += pages;
        if (tail != null) {
            span.hugePage = tail;
            backedFreePages += HugePageFiller.PAGES - tailUsed; // the pages of the tail's hugepage it does not need
            filler.allocate(tail, 0, tailUsed);
            filler.add(tail);
        }
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
     * need it, and says whether it released any. In a hugepage-aware heap those runs are whole hugepages;
     * only when they are not enough does it break hugepages of the filler, the one with the most free
     * backed pages first.
     */
    private boolean makeRoomUnderLimit(long pages) {
        long backedPages = inUsePages + backedFreePages;
        long over = backedLimitPages == Long.MAX_VALUE ? 0 : backedPages + pages - backedLimitPages;
        if (over <= 0) {
            return false;
        }
        AllocatorEvents.Release release = events.release();
        long released = 0;
        while (released < over && os.canRelease()) {
            Span run = largestBacked();
            HugePageFiller.HugePage hugePage = run == null && hugePages ? sparsestHugePage() : null;
            if (run != null) {
                released += releaseRun(run);
            } else if (hugePage != null) {
                released += breakHugePage(hugePage);
            } else {
                break;
            }
        }
        if (release != null) {
            release.finish(backedLimit, released << SizeClasses.PAGE_SHIFT);
        }
        events.limitHit(backedLimit, backedLimitPages << SizeClasses.PAGE_SHIFT, backedPages << SizeClasses.PAGE_SHIFT,
                pages << SizeClasses.PAGE_SHIFT, released << SizeClasses.PAGE_SHIFT, false);
        return released > 0;
    }

    /** The filler's hugepage with the most free backed pages, or null when none has any. */
    private HugePageFiller.HugePage sparsestHugePage() {
        HugePageFiller.HugePage sparsest = null;
        for (HugePageFiller.HugePage hugePage : filler.hugePages()) {
            if (hugePage.freeBackedPages() > (sparsest == null ? 0 : sparsest.freeBackedPages())) {
                sparsest = hugePage;
            }
        }
        return sparsest;
    }

    /**
     * Releases every free backed page of a filler hugepage, which breaks it: the kernel splits the huge
     * page and backs the pages still in use with small ones. Returns the pages released.
     */
    private long breakHugePage(HugePageFiller.HugePage hugePage) {
        if (hugePage.releasedPages() == 0) {
            brokenHugePages++;
        }
        long done = 0;
        int from = hugePage.nextFreeBacked(0);
        while (from < HugePageFiller.PAGES) {
            int to = hugePage.nextNotFreeBacked(from);
            long bytes = (long) (to - from) << SizeClasses.PAGE_SHIFT;
            os.release((hugePage.firstPage + from) << SizeClasses.PAGE_SHIFT, bytes);
            HugePageFiller.markReleased(hugePage, from, to - from);
            backedFreePages -= to - from;
            releasedFreePages += to - from;
            releasedTotalBytes += bytes;
            done += to - from;
            from = hugePage.nextFreeBacked(to);
        }
        return done;
    }

    /**
     * Maps a region of at least {@code pages} pages and files it as a free run (merged with its free
     * neighbours), which it returns; or why the OS gave none that can be used.
     *
     * <p>The OS layer throws its refusal ({@link OffHeapExhaustedError}, from {@link OsMemory#map}) as the
     * JDK's {@code Arena} does: its other callers, which map slab memory and the native page map's root
     * when an allocator is built, rightly let it reach the builder's caller as the {@code OutOfMemoryError}
     * it is. Here, and only here, it becomes a value. The catch takes that type alone: an
     * {@code OutOfMemoryError} of the Java heap inside a map is the JVM's trouble and passes through.
     */
    private Allocation grow(long pages) {
        AllocatorEvents.PageHeapGrowth growth = events.growth();
        long bytes = Math.max(REGION_BYTES, ((pages << SizeClasses.PAGE_SHIFT) + REGION_ALIGNMENT - 1) & -REGION_ALIGNMENT);
        long base;
        try {
            base = os.map(bytes, REGION_ALIGNMENT);
            if (base + bytes > 1L << PageMap.ADDRESS_BITS) {
                os.unmap(base, bytes);
                return new NoMemory(pages, "the OS returned memory above the 48-bit address space");
            }
            if (hugePages) {
                // Advice, not a promise: a region the kernel refuses is still memory, only backed by small pages.
                os.adviseHugePages(base, bytes);
            }
            if (classes != null) {
                try {
                    classes.reserve(base >>> SizeClasses.PAGE_SHIFT, bytes >>> SizeClasses.PAGE_SHIFT);
                } catch (OutOfMemoryError e) {
                    os.unmap(base, bytes); // of no use without its leaves, whichever error kept them away
                    throw e;
                }
            }
        } catch (OffHeapExhaustedError e) {
            return new NoMemory(pages, e.getMessage());
        }
        regions.add(new long[] {base, bytes});
        mappedBytes += bytes;
        Span run = coalesce(base >>> SizeClasses.PAGE_SHIFT, bytes >>> SizeClasses.PAGE_SHIFT,
                os.canRelease() ? Span.FREE_RELEASED : Span.FREE_BACKED);
        insertFree(run);
        if (growth != null) {
            growth.finish(bytes, pages << SizeClasses.PAGE_SHIFT, mappedBytes);
        }
        return run;
    }

    /** Gives an in-use span back. The caller has already {@link Span#retire() retired} it. */
    synchronized void free(Span span) {
        checkOpen();
        if (classes != null && span.sizeClass != 0) {
            classes.clear(span.startPage, span.pages); // before its pages can be carved again
        }
        inUsePages -= span.pages;
        HugePageFiller.HugePage hugePage = span.hugePage;
        // Pages before the filler's hugepage are whole hugepages (all of a span without one).
        long wholeEnd = hugePage == null ? span.endPage() : Math.max(span.startPage, hugePage.firstPage);
        if (wholeEnd > span.startPage) {
            insertFree(coalesce(span.startPage, wholeEnd - span.startPage, Span.FREE_BACKED));
        }
        if (hugePage != null) {
            freeInHugePage(hugePage, wholeEnd, span.endPage());
        }
        makeRoomUnderLimit(0);
    }

    /** Frees pages {@code [from, to)} of a filler hugepage; an empty one goes back to the free runs whole. */
    private void freeInHugePage(HugePageFiller.HugePage hugePage, long from, long to) {
        filler.free(hugePage, (int) (from - hugePage.firstPage), (int) (to - from));
        backedFreePages += to - from;
        if (hugePage.usedPages() > 0) {
            return;
        }
        // Out of the filler before its pages join a run: from then on only the run hands them out.
        filler.remove(hugePage);
        int releasedPages = hugePage.releasedPages();
        backedFreePages -= HugePageFiller.PAGES - releasedPages;
        releasedFreePages -= releasedPages;
        long start = hugePage.firstPage << SizeClasses.PAGE_SHIFT;
        if (releasedPages == 0) {
            insertFree(coalesce(hugePage.firstPage, HugePageFiller.PAGES, Span.FREE_BACKED));
        } else {
            // Broken: the kernel backs what is left with small pages. Released whole, it is one run state again.
            Span run = coalesce(hugePage.firstPage, HugePageFiller.PAGES, Span.FREE_RELEASED);
            os.release(start, HUGE_PAGE_BYTES);
            releasedTotalBytes += (long) (HugePageFiller.PAGES - releasedPages) << SizeClasses.PAGE_SHIFT;
            insertFree(run);
        }
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
     * was released (whole runs, so it may be more than asked). In a hugepage-aware heap the runs are whole
     * free hugepages; free pages inside hugepages in use stay, so those hugepages stay whole. A JFR
     * {@code Release} event records it with {@code reason}.
     */
    synchronized long release(long bytes, AllocatorEvents.Reason reason) {
        if (closed || !os.canRelease()) {
            return 0;
        }
        AllocatorEvents.Release event = events.release();
        long done = 0;
        while (done < bytes) {
            Span run = largestBacked();
            if (run == null) {
                break;
            }
            done += releaseRun(run) << SizeClasses.PAGE_SHIFT;
        }
        if (event != null) {
            event.finish(reason, done);
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

    /**
     * Unmaps every region and the native page map. Spans handed out before are invalid afterwards. Later
     * calls do nothing, also after a failed one: so every unmap is tried whatever the ones before threw
     * (a region whose unmap failed stays mapped, the others do not), and close then throws the first
     * failure with the later ones suppressed in it.
     */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Steps unmaps = new Steps(null);
        for (long[] region : regions) {
            unmaps.run(() -> os.unmap(region[0], region[1]));
        }
        regions.clear();
        backed.clear();
        released.clear();
        filler.clear();
        mappedBytes = inUsePages = backedFreePages = releasedFreePages = 0;
        if (classes != null) {
            unmaps.run(classes::close); // the front end closed first: no native reader is left in it
        }
        unmaps.rethrow();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("allocator is closed");
        }
    }

    synchronized Snapshot snapshot() {
        long full = 0, partial = 0, broken = 0, fillerFreeBacked = 0;
        for (HugePageFiller.HugePage hugePage : filler.hugePages()) {
            full += hugePage.longestFree() == 0 ? 1 : 0;
            partial += hugePage.longestFree() == 0 ? 0 : 1;
            broken += hugePage.releasedPages() > 0 ? 1 : 0;
            fillerFreeBacked += hugePage.freeBackedPages();
        }
        // In a hugepage-aware heap the backed free runs are whole hugepages; elsewhere there are none.
        long freeHugePages = hugePages ? (backedFreePages - fillerFreeBacked) / HugePageFiller.PAGES : 0;
        return new Snapshot(mappedBytes, inUsePages << SizeClasses.PAGE_SHIFT, backedFreePages << SizeClasses.PAGE_SHIFT,
                releasedFreePages << SizeClasses.PAGE_SHIFT, releasedTotalBytes, backed.size() + released.size(),
                regions.size(), pageMap.heapBytes(), classes == null ? 0 : classes.mappedBytes(),
                full, partial, freeHugePages, broken, brokenHugePages);
    }

    /** The regions mapped, each {@code {address, bytes}}: for reading what the kernel says about them. */
    synchronized List<long[]> regions() {
        List<long[]> copy = new ArrayList<>(regions.size());
        for (long[] region : regions) {
            copy.add(region.clone());
        }
        return copy;
    }

    /**
     * Page heap numbers at one instant (all taken under the lock). The hugepage counts are 0 in a heap that
     * is not hugepage-aware.
     *
     * @param nativePageMapBytes address space of the page map's native mirror (not in {@code mappedBytes})
     * @param fullHugePages      hugepages of the filler with every page in use
     * @param partialHugePages   hugepages of the filler with free pages (released or not)
     * @param freeHugePages      whole free hugepages still backed
     * @param brokenHugePages    hugepages of the filler with some free pages released
     * @param brokenTotal        times a hugepage was broken since start
     */
    record Snapshot(long mappedBytes, long inUseBytes, long freeBytes, long releasedBytes, long releasedTotalBytes,
                    int freeRuns, int regions, long pageMapHeapBytes, long nativePageMapBytes,
                    long fullHugePages, long partialHugePages, long freeHugePages, long brokenHugePages, long brokenTotal) {
    }
}
