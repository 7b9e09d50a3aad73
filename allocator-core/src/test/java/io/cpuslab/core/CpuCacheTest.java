package io.cpuslab.core;

import io.cpuslab.FrontEndInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuCacheTest {
    private static final int SC = SizeClasses.classFor(64); // batch 32
    /** Room for two batches of 64-byte objects. */
    private static final long BUDGET = 64 * 64;

    private final Arena arena = Arena.ofShared();
    private final SlabLayout layout = new SlabLayout(arena.allocate(SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), 1);
    private final OneSlab frontEnd = new OneSlab(layout);
    private final PageMap map = new PageMap();
    private final PageHeap heap = new PageHeap(new FaultyMemory(), map, Long.MAX_VALUE, false);
    private final CpuCache cache;

    CpuCacheTest() {
        TransferCache[] transfer = new TransferCache[SizeClasses.COUNT];
        transfer[SC] = new TransferCache(SC, new CentralFreeList(SC, heap, map));
        cache = new CpuCache(frontEnd, layout, transfer, new FaultyMemory(), BUDGET);
    }

    @AfterEach
    void close() {
        heap.close();
        arena.close();
    }

    /**
     * A thread that dies between charging the budget and growing (here: grow throws StackOverflowError)
     * leaves budget charged for capacity the slab never got. Once all of it is charged that way, the
     * next underflow must still grow the class: the budget is recounted from the capacity really there.
     */
    @Test
    void budgetChargedByGrowersThatDiedIsRecountedSoTheSlabStillGrows() {
        frontEnd.dieInGrow = true;
        for (int i = 0; i < 4; i++) {
            assertThrows(StackOverflowError.class, () -> cache.allocate(SC));
        }
        assertEquals(BUDGET, cache.capacityBytes(0), "every failed growth left its charge");
        assertEquals(0, layout.capacity(0, SC));

        frontEnd.dieInGrow = false;
        cache.allocate(SC);
        assertTrue(layout.capacity(0, SC) > 0, "the class grew after the recount");
        assertEquals((long) layout.capacity(0, SC) * SizeClasses.size(SC), cache.capacityBytes(0),
                "charged exactly what the slab has");
    }

    /** One slab, owned through its lock like the locked front end; grow can be made to die. */
    private static final class OneSlab implements SlabFrontEnd {
        private final SlabLayout layout;
        volatile boolean dieInGrow;

        OneSlab(SlabLayout layout) {
            this.layout = layout;
        }

        @Override
        public FrontEndInfo info() {
            return new FrontEndInfo(FrontEndInfo.Kind.LOCKED, "one slab for tests", "test", 1);
        }

        @Override
        public long pop(int sizeClass) {
            SlabLock lock = layout.lock(0);
            try {
                return layout.pop(0, sizeClass);
            } finally {
                lock.held = 0;
            }
        }

        @Override
        public boolean push(int sizeClass, long address) {
            SlabLock lock = layout.lock(0);
            try {
                return layout.push(0, sizeClass, address);
            } finally {
                lock.held = 0;
            }
        }

        @Override
        public int currentSlab() {
            return 0;
        }

        @Override
        public int grow(int slab, int sizeClass, int by) {
            if (dieInGrow) {
                throw new StackOverflowError("test: died between the budget's charge and the growth");
            }
            SlabLock lock = layout.lock(slab);
            try {
                return layout.grow(slab, sizeClass, by);
            } finally {
                lock.held = 0;
            }
        }

        @Override
        public int pushBatch(int slab, int sizeClass, long[] items, int from, int count) {
            SlabLock lock = layout.lock(slab);
            try {
                return layout.pushBatch(slab, sizeClass, items, from, count);
            } finally {
                lock.held = 0;
            }
        }

        @Override
        public int popBatch(int slab, int sizeClass, long[] items, int from, int max) {
            SlabLock lock = layout.lock(slab);
            try {
                return layout.popBatch(slab, sizeClass, items, from, max);
            } finally {
                lock.held = 0;
            }
        }

        @Override
        public SlabLock stop(int slab) {
            return layout.lock(slab);
        }

        @Override
        public void start(int slab) {
        }

        @Override
        public void close() {
        }
    }
}
