package io.cpuslab.core;

/**
 * Per size class: spans carved into objects, handing objects out and taking them back in batches.
 *
 * <p>Spans with free objects sit in {@link #BUCKETS} lists by how full they are. Allocation takes from
 * the fullest spans first, so lightly used spans drain completely and go back to the page heap — the
 * occupancy bucketing of TCMalloc's central free list. The free objects of a span are a stack of object
 * indexes kept in the {@link Span} (on the Java heap), so a buffer overrun in user memory cannot
 * corrupt the allocator.
 */
final class CentralFreeList {
    /** Occupancy buckets, as TCMalloc's kNumLists. */
    static final int BUCKETS = 8;

    private final int sizeClass;
    private final int objectSize;
    private final int objectsPerSpan;
    private final int pagesPerSpan;
    private final PageHeap pageHeap;
    private final PageMap pageMap;
    private final Span[] buckets = new Span[BUCKETS];

    // Guarded by this.
    private long spans;
    private long freeObjects;
    private long spansReturned;

    CentralFreeList(int sizeClass, PageHeap pageHeap, PageMap pageMap) {
        this.sizeClass = sizeClass;
        this.objectSize = SizeClasses.size(sizeClass);
        this.objectsPerSpan = SizeClasses.objectsPerSpan(sizeClass);
        this.pagesPerSpan = SizeClasses.pages(sizeClass);
        this.pageHeap = pageHeap;
        this.pageMap = pageMap;
    }

    /**
     * Fills {@code out[from..from+count)} with object addresses, carving new spans as needed: all of them,
     * or fewer when the page heap refused a span after some were found (those are kept), or none when it
     * refused the first span needed, and then its {@link NoMemory} is the answer.
     */
    synchronized Batch removeRange(long[] out, int from, int count) {
        int done = 0;
        NoMemory noMemory = null;
        while (done < count) {
            Span span = fullestWithFree();
            if (span == null) {
                PageHeap.Allocation carved = newSpan();
                if (carved instanceof NoMemory refused) {
                    noMemory = refused;
                    break;
                }
                span = (Span) carved;
            }
            unlink(span);
            long base = span.start();
            while (done < count && span.freeCount > 0) {
                out[from + done++] = base + (long) span.freeIndexes[--span.freeCount] * objectSize;
            }
            link(span);
        }
        freeObjects -= done;
        return done == 0 && noMemory != null ? noMemory : new Batch.Objects(done);
    }

    /** Takes back {@code in[from..from+count)}; spans left with no object in use go back to the page heap. */
    synchronized void insertRange(long[] in, int from, int count) {
        for (int i = from, end = from + count; i < end; i++) {
            long address = in[i];
            Span span = pageMap.get(address);
            if (span == null || span.sizeClass != sizeClass) {
                // Only a wrong size given to freeSized gets here: refuse rather than corrupt a span.
                throw new IllegalStateException("cpuslab: 0x" + Long.toHexString(address) + " is not an object of class "
                        + sizeClass + " (" + objectSize + " B); was it freed with a wrong size?");
            }
            short index = (short) SizeClasses.objectIndex(sizeClass, address - span.start());
            unlink(span);
            // Slot first, count second, and no call in between: a StackOverflowError thrown by a call here
            // must not leave the count covering a slot that still names an object handed out earlier.
            span.freeIndexes[span.freeCount] = index;
            span.freeCount++;
            if (span.freeCount == objectsPerSpan) {
                freeObjects -= objectsPerSpan - 1;
                spans--;
                spansReturned++;
                span.retire();
                pageHeap.free(span);
            } else {
                freeObjects++;
                link(span);
            }
        }
    }

    /** A new span of this class with every object free, or why the page heap has none. */
    private PageHeap.Allocation newSpan() {
        // The index stack before the span: an OutOfMemoryError for it must not strand a span in use.
        short[] indexes = new short[objectsPerSpan];
        for (int i = 0; i < objectsPerSpan; i++) {
            indexes[i] = (short) (objectsPerSpan - 1 - i); // popped in address order
        }
        PageHeap.Allocation carved = pageHeap.allocate(pagesPerSpan, sizeClass);
        if (carved instanceof Span span) {
            span.freeIndexes = indexes;
            span.freeCount = objectsPerSpan;
            spans++;
            freeObjects += objectsPerSpan;
        }
        return carved;
    }

    private Span fullestWithFree() {
        for (int b = BUCKETS - 1; b >= 0; b--) {
            if (buckets[b] != null) {
                return buckets[b];
            }
        }
        return null;
    }

    /** Files a span by occupancy; spans with nothing free are not filed (nothing to hand out). */
    private void link(Span span) {
        if (span.freeCount == 0) {
            return;
        }
        int inUse = objectsPerSpan - span.freeCount;
        int b = (int) ((long) inUse * BUCKETS / objectsPerSpan);
        span.bucket = b;
        span.prev = null;
        span.next = buckets[b];
        if (span.next != null) {
            span.next.prev = span;
        }
        buckets[b] = span;
    }

    private void unlink(Span span) {
        int b = span.bucket;
        if (b < 0) {
            return;
        }
        if (span.prev != null) {
            span.prev.next = span.next;
        } else {
            buckets[b] = span.next;
        }
        if (span.next != null) {
            span.next.prev = span.prev;
        }
        span.prev = span.next = null;
        span.bucket = -1;
    }

    synchronized Snapshot snapshot() {
        return new Snapshot(spans, freeObjects, spans * objectsPerSpan - freeObjects, spansReturned);
    }

    /**
     * @param objectsOut objects handed out of this list and not back yet (in caches or with the application)
     */
    record Snapshot(long spans, long freeObjects, long objectsOut, long spansReturned) {
    }
}
