package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class TransferCacheTest {
    private static final int SC = SizeClasses.classFor(64); // batch 32
    private final PageMap map = new PageMap();
    private final PageHeap heap = new PageHeap(new FaultyMemory(), map, Long.MAX_VALUE, false);
    private final CentralFreeList central = new CentralFreeList(SC, heap, map);
    private final TransferCache cache = new TransferCache(SC, central);

    @AfterEach
    void close() {
        heap.close();
    }

    @Test
    void batchesMoveThroughWithoutTouchingTheCentralList() {
        long[] batch = new long[32];
        assertEquals(new Batch.Objects(32), cache.removeRange(batch, 32)); // miss: from central
        cache.insertRange(batch, 0, 32);
        assertEquals(32, cache.snapshot().objects());
        long outBefore = central.snapshot().objectsOut();
        long[] again = new long[32];
        assertEquals(new Batch.Objects(32), cache.removeRange(again, 32));
        assertEquals(outBefore, central.snapshot().objectsOut(), "served from the cache");
        TransferCache.Snapshot s = cache.snapshot();
        assertEquals(1, s.removeHits());
        assertEquals(1, s.removeMisses());
    }

    @Test
    void capacityIsBoundedAndOverflowGoesToCentral() {
        int capacity = cache.snapshot().capacity();
        assertEquals(64 * 32, capacity, "64 batches of 32 for 64-byte objects (128 KiB, under 1 MiB)");
        long[] batch = new long[32];
        for (int i = 0; i <= capacity / 32; i++) {
            cache.removeRange(batch, 32);
        }
        for (int i = 0; i <= capacity / 32; i++) {
            central.removeRange(batch, 0, 32);
            cache.insertRange(batch, 0, 32);
        }
        assertEquals(capacity, cache.snapshot().objects());
        assertEquals(1, cache.snapshot().insertMisses());
    }

    /**
     * The central list holds nothing and its heap refuses a span: a batch keeps what the cache had, and
     * once the cache is empty too, the heap's refusal is the answer.
     */
    @Test
    void aBatchTheHeapCannotCompleteKeepsWhatTheCacheHadAndAnEmptyOneIsTheRefusal() {
        PageMap oneSpanMap = new PageMap();
        long spanPages = SizeClasses.pages(SC);
        PageHeap oneSpan = new PageHeap(new FaultyMemory(), oneSpanMap, spanPages * SizeClasses.PAGE_SIZE, false);
        try {
            CentralFreeList limited = new CentralFreeList(SC, oneSpan, oneSpanMap);
            TransferCache limitedCache = new TransferCache(SC, limited);
            int perSpan = SizeClasses.objectsPerSpan(SC);
            long[] all = new long[perSpan];
            assertEquals(new Batch.Objects(perSpan), limited.removeRange(all, 0, perSpan)); // the one span, all out
            limitedCache.insertRange(all, 0, 10);
            long[] batch = new long[32];
            assertEquals(new Batch.Objects(10), limitedCache.removeRange(batch, 32));
            assertArrayEquals(Arrays.copyOf(all, 10), Arrays.copyOf(batch, 10), "the cache's objects, the caller's now");
            String full = Bytes.format(spanPages * SizeClasses.PAGE_SIZE);
            assertEquals(new NoMemory(spanPages, "memory limit " + full + ", in use " + full), limitedCache.removeRange(batch, 32));
        } finally {
            oneSpan.close();
        }
    }

    @Test
    void flushEmptiesIntoTheCentralList() {
        long[] batch = new long[32];
        cache.removeRange(batch, 32);
        cache.insertRange(batch, 0, 32);
        cache.flush();
        assertEquals(0, cache.snapshot().objects());
        assertEquals(0, central.snapshot().objectsOut());
    }
}
