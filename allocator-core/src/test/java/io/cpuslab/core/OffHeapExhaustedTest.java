package io.cpuslab.core;

import org.junit.jupiter.api.Test;

import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The layers that can serve a request without new memory (a partial batch, the ordinary path instead of a
 * guarded block) fall back when the OS refuses off-heap memory, which reaches them as a {@link NoMemory}
 * value, and only then: an OutOfMemoryError of the Java heap in the same place goes on to the caller.
 */
class OffHeapExhaustedTest {
    private static final int SC = SizeClasses.classFor(1024);

    @Test
    void aGuardedBlockGivesWayWhenTheOsRefusesButNotWhenTheJavaHeapIsFull() {
        assertNull(guardedBlockWith(() -> new OffHeapExhaustedError("mmap failed (simulated)")), "the ordinary path serves it");
        OutOfMemoryError heap = new OutOfMemoryError("Java heap space (simulated)");
        assertSame(heap, assertThrows(OutOfMemoryError.class, () -> guardedBlockWith(() -> heap)));
    }

    /** A Java-heap error on the way does not use up one of the MAX_LIVE guarded blocks for good. */
    @Test
    void aGuardedBlockThatDiedOfAJavaHeapErrorGivesItsPlaceBack() {
        FaultyMemory os = new FaultyMemory();
        PageHeap heap = new PageHeap(os, new PageMap(), Long.MAX_VALUE, false);
        try {
            GuardedBlocks guards = new GuardedBlocks(heap, os, 1);
            os.failWith(bytes -> new OutOfMemoryError("Java heap space (simulated)"));
            os.failing(true);
            for (int i = 0; i < GuardedBlocks.MAX_LIVE; i++) {
                assertThrows(OutOfMemoryError.class, () -> guards.allocate(100));
            }
            os.failing(false);
            assertNotNull(guards.allocate(100), "every place is free again");
        } finally {
            heap.close();
        }
    }

    @Test
    void aBatchKeepsWhatItFoundWhenTheOsRefusesButNotWhenTheJavaHeapIsFull() {
        // One region's spans, then the next region's map fails: the batch gets what the first region had.
        int oneRegion = (int) (PageHeap.REGION_BYTES / SizeClasses.size(SC));
        assertEquals(new Batch.Objects(oneRegion), batchWith(() -> new OffHeapExhaustedError("mmap failed (simulated)"), oneRegion + 100));
        OutOfMemoryError heap = new OutOfMemoryError("Java heap space (simulated)");
        assertSame(heap, assertThrows(OutOfMemoryError.class, () -> batchWith(() -> heap, oneRegion + 100)));
    }

    private static Span guardedBlockWith(Supplier<OutOfMemoryError> failure) {
        FaultyMemory os = failing(0, failure);
        PageHeap heap = new PageHeap(os, new PageMap(), Long.MAX_VALUE, false);
        try {
            return new GuardedBlocks(heap, os, 1).allocate(100);
        } finally {
            heap.close();
        }
    }

    /** Real memory for the first {@code good} maps, then {@code failure} for every map. */
    private static FaultyMemory failing(int good, Supplier<OutOfMemoryError> failure) {
        FaultyMemory os = new FaultyMemory();
        os.failWith(bytes -> failure.get());
        os.failAfter(good);
        return os;
    }

    private static Batch batchWith(Supplier<OutOfMemoryError> failure, int count) {
        PageMap map = new PageMap();
        PageHeap heap = new PageHeap(failing(1, failure), map, Long.MAX_VALUE, false);
        try {
            return new CentralFreeList(SC, heap, map).removeRange(new long[count], 0, count);
        } finally {
            heap.close();
        }
    }
}
