package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
        assertEquals(32, cache.removeRange(batch, 32)); // miss: from central
        cache.insertRange(batch, 0, 32);
        assertEquals(32, cache.snapshot().objects());
        long outBefore = central.snapshot().objectsOut();
        long[] again = new long[32];
        assertEquals(32, cache.removeRange(again, 32));
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
