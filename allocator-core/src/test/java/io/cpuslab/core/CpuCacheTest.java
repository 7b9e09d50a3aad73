package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuCacheTest {
    private static final int SC = SizeClasses.classFor(64); // batch 32
    /** Room for two batches of 64-byte objects. */
    private static final long BUDGET = 64 * 64;

    private final Arena arena = Arena.ofShared();
    private final SlabLayout layout = new SlabLayout(arena.allocate(SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), 1);
    private final OneSlabProvider.OneSlab frontEnd = OneSlabProvider.on(layout);
    private final PageMap map = new PageMap();
    private final PageHeap heap = new PageHeap(new FaultyMemory(), map, Long.MAX_VALUE, false);
    private final CpuCache cache;

    CpuCacheTest() {
        TransferCache[] transfer = new TransferCache[SizeClasses.COUNT];
        transfer[SC] = new TransferCache(SC, new CentralFreeList(SC, heap, map));
        cache = new CpuCache(frontEnd, layout, transfer, new FaultyMemory(), BUDGET, new AllocatorEvents(""));
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
        for (int i = 0; i < 4; i++) {
            frontEnd.beforeGrow = () -> {
                throw new StackOverflowError("test: died between the budget's charge and the growth");
            };
            assertThrows(StackOverflowError.class, () -> cache.allocate(SC));
        }
        assertEquals(BUDGET, cache.capacityBytes(0), "every failed growth left its charge");
        assertEquals(0, layout.capacity(0, SC));

        cache.allocate(SC);
        assertTrue(layout.capacity(0, SC) > 0, "the class grew after the recount");
        assertEquals((long) layout.capacity(0, SC) * SizeClasses.size(SC), cache.capacityBytes(0),
                "charged exactly what the slab has");
    }

    /**
     * A grower overtaken between its charge and its growth by another that spends the rest of the budget
     * and recounts (the first grant is charged but is not capacity yet) leaves the slab charged for less
     * than it has. The next recount, when the budget looks spent, charges what is really there, so such
     * races cannot add up over the slab's life.
     */
    @Test
    void theNextRecountChargesCapacityThatGrewBehindAnEarlierOne() {
        frontEnd.beforeGrow = () -> {
            cache.allocate(SC); // charges the rest of the budget and grows a batch
            cache.allocate(SC); // the budget looks spent: recounts without the first grant, grows one
        };
        long block = ((CpuCache.Refill.Block) cache.allocate(SC)).address(); // charged, overtaken, then grows
        assertTrue(capacityBytes() > cache.capacityBytes(0), "the overtaken grant is not charged: " + capacityBytes()
                + " bytes of capacity, " + cache.capacityBytes(0) + " charged");

        cache.deallocate(SC, block); // an overflow after an underflow grows by a batch: into the budget left
        cache.allocate(SC);          // and the underflow after it finds the budget spent and recounts
        assertEquals(96, layout.capacity(0, SC), "the recount granted nothing");
        assertEquals(capacityBytes(), cache.capacityBytes(0), "charged exactly what the slab has");
        assertTrue(cache.capacityBytes(0) > BUDGET, "so the overshoot is charged, and nothing more grows");
    }

    private long capacityBytes() {
        return (long) layout.capacity(0, SC) * SizeClasses.size(SC);
    }

    /**
     * A drain owns the slab, has cleared its capacities and has not lowered the charge yet. A recount
     * then must not charge what it sees (nothing): the drain lowers the charge after it, which would leave
     * the slab charged far below the capacity it grows again, past its budget. It leaves an owned slab
     * alone; the next miss tries again.
     */
    @Test
    void aRecountLeavesASlabThatADrainOwnsAlone() throws Exception {
        long[] blocks = new long[200];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = ((CpuCache.Refill.Block) cache.allocate(SC)).address();
        }
        assertEquals(BUDGET, cache.capacityBytes(0), "the budget is spent");
        CountDownLatch cleared = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread drain = Thread.ofPlatform().daemon().start(() -> layout.owning(0, SlabLayout.WAIT, (owned, slab, sc, arg) -> {
            owned.drain(slab, sc, new long[SlabLayout.maxCapacity(sc)]);
            cleared.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return 0;
        }, SC, 0));
        try {
            cleared.await();
            cache.deallocate(SC, blocks[0]); // the budget looks spent: it would recount
            assertEquals(BUDGET, cache.capacityBytes(0), "the charge the drain is about to lower is left alone");
        } finally {
            done.countDown();
            drain.join();
        }
    }

    /**
     * A heap with no room at all: the underflow's answer is the heap's refusal, for the span of the class
     * asked, and the slab gets nothing; once the transfer cache holds objects, they serve the next one.
     */
    @Test
    void anUnderflowTheHeapCannotRefillIsTheRefusalAndObjectsCachedServeTheNextOne() {
        PageHeap full = new PageHeap(new FaultyMemory(), map, 0, false);
        try {
            TransferCache[] transfer = new TransferCache[SizeClasses.COUNT];
            transfer[SC] = new TransferCache(SC, new CentralFreeList(SC, full, map));
            CpuCache refused = new CpuCache(frontEnd, layout, transfer, new FaultyMemory(), BUDGET, new AllocatorEvents(""));
            assertEquals(new NoMemory(SizeClasses.pages(SC), "memory limit 0 B, in use 0 B"), refused.allocate(SC));
            assertEquals(0, layout.length(0, SC), "nothing reached the slab");
            long[] objects = new long[2];
            assertEquals(new Batch.Objects(2), new CentralFreeList(SC, heap, map).removeRange(objects, 0, 2));
            transfer[SC].insertRange(objects, 0, 2);
            // The refill asks for more than two; the two it gets are kept: one for the caller, one for the slab.
            assertEquals(new CpuCache.Refill.Block(objects[0]), refused.allocate(SC));
            assertEquals(1, layout.length(0, SC), "the other one went to the slab");
        } finally {
            full.close();
        }
    }
}
