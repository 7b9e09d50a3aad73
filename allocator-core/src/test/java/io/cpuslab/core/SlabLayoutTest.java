package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SlabLayoutTest {
    private static final int SC = 5;
    private final Arena arena = Arena.ofShared();
    private final SlabLayout layout = new SlabLayout(arena.allocate(2 * SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), 2);

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void classArraysFitTheSlabWithoutOverlapping() {
        for (int sc = 2; sc < SizeClasses.COUNT; sc++) {
            assertTrue(SlabLayout.begin(sc) >= SlabLayout.begin(sc - 1) + SlabLayout.maxCapacity(sc - 1));
        }
        int last = SizeClasses.COUNT - 1;
        assertTrue((SlabLayout.begin(last) + SlabLayout.maxCapacity(last)) * 8L <= SlabLayout.SLAB_BYTES);
        assertTrue(SlabLayout.begin(1) * 8L >= SlabLayout.HEADER_OFFSET + 4L * SizeClasses.COUNT, "slots after headers");
    }

    @Test
    void zeroedSlabIsEmptyFullAndHasNoCapacity() {
        assertEquals(0, layout.pop(0, SC));
        assertFalse(layout.push(0, SC, 0x1000));
        assertEquals(0, layout.capacity(0, SC));
        assertEquals(0, layout.length(0, SC));
    }

    @Test
    void pushAndPopAreLifoWithinCapacity() {
        assertEquals(3, layout.grow(0, SC, 3));
        assertTrue(layout.push(0, SC, 0x10));
        assertTrue(layout.push(0, SC, 0x20));
        assertTrue(layout.push(0, SC, 0x30));
        assertFalse(layout.push(0, SC, 0x40), "capacity 3");
        assertEquals(3, layout.length(0, SC));
        assertEquals(0x30, layout.pop(0, SC));
        assertEquals(0x20, layout.pop(0, SC));
        assertEquals(0x10, layout.pop(0, SC));
        assertEquals(0, layout.pop(0, SC));
        assertEquals(0, layout.length(1, SC), "the other slab is untouched");
    }

    @Test
    void growStopsAtMaxCapacity() {
        int max = SlabLayout.maxCapacity(SC);
        assertEquals(max, layout.grow(0, SC, max + 100));
        assertEquals(0, layout.grow(0, SC, 1));
        assertEquals(max, layout.capacity(0, SC));
    }

    @Test
    void batchesMoveAsManyAsCapacityAndContentAllow() {
        layout.grow(1, SC, 4);
        long[] in = {1, 2, 3, 4, 5, 6};
        assertEquals(4, layout.pushBatch(1, SC, in, 1, 5));
        long[] out = new long[8];
        assertEquals(4, layout.popBatch(1, SC, out, 2, 10));
        assertArrayEquals(new long[] {0, 0, 5, 4, 3, 2, 0, 0}, out);
        assertEquals(0, layout.popBatch(1, SC, out, 0, 10));
    }

    @Test
    void shrinkOnlyTakesCapacityThatHoldsNoObjects() {
        layout.grow(0, SC, 10);
        for (int i = 1; i <= 6; i++) {
            layout.push(0, SC, i * 16L);
        }
        assertEquals(4, layout.shrinkUnused(0, SC, 100));
        assertEquals(6, layout.capacity(0, SC));
        assertEquals(6, layout.length(0, SC));
    }

    @Test
    void drainEmptiesAndUnpopulates() {
        layout.grow(0, SC, 5);
        layout.push(0, SC, 0x100);
        layout.push(0, SC, 0x200);
        long[] out = new long[SlabLayout.maxCapacity(1)];
        assertEquals(2, layout.drain(0, SC, out));
        assertEquals(0x200, out[0]);
        assertEquals(0, layout.capacity(0, SC));
        assertEquals(0, layout.pop(0, SC));
    }

    @Test
    void owningGivesExclusiveOwnership() throws InterruptedException {
        layout.grow(0, SC, SlabLayout.maxCapacity(SC));
        int threads = 4, rounds = 20_000;
        AtomicLong lost = new AtomicLong();
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            long token = (t + 1L) << 32;
            Thread.ofPlatform().start(() -> {
                for (int i = 0; i < rounds; i++) {
                    long item = token | i;
                    // Without exclusion, a concurrent pop would take our item or push over it.
                    lost.addAndGet(layout.owning(0, SlabLayout.WAIT,
                            (owned, slab, sc, x) -> owned.push(slab, sc, x) && owned.pop(slab, sc) == x ? 0 : 1, SC, item));
                }
                done.countDown();
            });
        }
        done.await();
        assertEquals(0, lost.get());
        assertEquals(7, layout.owning(0, 1, (owned, slab, sc, x) -> 7, 0, 0), "the lock was left held");
    }

    private static final SlabLayout.Work OWNED = (owned, slab, sc, arg) -> arg;

    @Test
    void aBusySlabAnswersNotOwnedAfterItsAttemptsAndTheOtherSlabStaysFree() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = ownerUntil(0, done, OWNED);
        assertEquals(SlabLayout.NOT_OWNED, layout.owning(0, 1, OWNED, 0, 5));
        assertEquals(SlabLayout.NOT_OWNED, layout.owning(0, 100, OWNED, 0, 5));
        assertEquals(5, layout.owning(1, 1, OWNED, 0, 5), "one slab's owner does not hold another");
        done.countDown();
        holder.join();
        assertEquals(5, layout.owning(0, 1, OWNED, 0, 5));
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a slab never given back would hang the waiter
    void aWaitingOwnerRunsOnceTheSlabIsGivenBack() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = ownerUntil(0, done, (owned, slab, sc, arg) -> owned.grow(slab, sc, 3));
        Thread.ofPlatform().start(() -> {
            LockSupport.parkNanos(50_000_000);
            done.countDown();
        });
        assertEquals(3, layout.owning(0, SlabLayout.WAIT, (owned, slab, sc, arg) -> owned.capacity(slab, sc), SC, 0),
                "the waiter ran after the holder, and saw its write");
        holder.join();
    }

    @Test
    void whateverTheWorkThrowsTheSlabIsGivenBack() {
        IllegalStateException thrown = new IllegalStateException("work failed");
        IllegalStateException caught = assertThrows(IllegalStateException.class,
                () -> layout.owning(0, 1, (owned, slab, sc, arg) -> {
                    throw thrown;
                }, 0, 0));
        assertSame(thrown, caught, "the work's exception reaches the caller as it was");
        assertThrows(StackOverflowError.class, () -> layout.owning(0, 1, (owned, slab, sc, arg) -> recurse(), 0, 0));
        assertEquals(5, layout.owning(0, 1, OWNED, 0, 5));
    }

    /** A close: it waits for the slab's owner, then nobody owns it again, and nobody waits for it. */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSlabOwnedForGoodWaitsForItsOwnerAndIsNeverOwnedAgainNorWaitedFor() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = ownerUntil(1, done, OWNED);
        Thread closer = Thread.ofPlatform().daemon().start(() -> layout.ownForGood(1));
        closer.join(100);
        assertTrue(closer.isAlive(), "the close waits for the owner");
        done.countDown();
        closer.join();
        holder.join();
        assertEquals(SlabLayout.NOT_OWNED, layout.owning(1, 10, OWNED, 0, 5));
        assertEquals(SlabLayout.NOT_OWNED, layout.owning(1, SlabLayout.WAIT, OWNED, 0, 5), "nobody waits for a closed slab");
        assertEquals(5, layout.owning(0, 1, OWNED, 0, 5), "the other slab is not closed");
    }

    /**
     * A thread that owns {@code slab} (class {@link #SC}) once this returns, until {@code done}; then it
     * runs {@code last}, still owning it.
     */
    private Thread ownerUntil(int slab, CountDownLatch done, SlabLayout.Work last) throws InterruptedException {
        CountDownLatch owning = new CountDownLatch(1);
        Thread owner = Thread.ofPlatform().daemon().start(() -> layout.owning(slab, SlabLayout.WAIT, (owned, s, sc, arg) -> {
            owning.countDown();
            await(done);
            return last.run(owned, s, sc, arg);
        }, SC, 0));
        owning.await();
        return owner;
    }

    private static long recurse() {
        return recurse() + 1;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
