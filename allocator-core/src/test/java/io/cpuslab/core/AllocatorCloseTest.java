package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An allocator's close takes every step of {@link AllocatorParts}' order even when one fails, and throws
 * the first failure; but it unmaps nothing while something that could touch the memory may not have
 * stopped.
 */
class AllocatorCloseTest {
    private static final long SLAB_BYTES = 1L << SlabLayout.SHIFT;

    /** The page heap's region cannot be unmapped: the slabs are unmapped all the same. */
    @Test
    void aPageHeapThatCannotBeUnmappedLeavesTheSlabsToBeUnmapped() {
        FaultyMemory os = new FaultyMemory();
        OneSlabProvider provider = new OneSlabProvider();
        CpuSlabAllocator allocator = new CpuSlabAllocator(config(os), new FrontEndSelection.Choice(provider, "test"), false);
        allocator.free(allocator.malloc(64)); // the page heap maps a region
        os.failUnmaps(1); // close's first unmap: the page heap's region

        IllegalStateException thrown = assertThrows(IllegalStateException.class, allocator::close);

        try {
            assertEquals("munmap of 64 MiB failed: errno 22 (simulated)", thrown.getMessage());
            assertEquals(List.of(), List.of(thrown.getSuppressed()), "nothing else failed");
            assertAll(() -> assertTrue(provider.frontEnd.closed, "the front end is closed"),
                    () -> assertEquals(PageHeap.REGION_BYTES, os.mappedBytes.get(),
                            "only the page heap's region, whose unmap failed, is still mapped: the slabs are not"),
                    () -> assertThrows(IllegalStateException.class, () -> allocator.malloc(64), "the allocator is closed"));
        } finally {
            os.failedUnmaps.forEach(region -> os.unmap(region[0], region[1]));
        }
    }

    /**
     * The front end cannot be closed: the arena is closed all the same, so Java accesses fail from now on,
     * but nothing is unmapped, since a fast path the front end did not stop could still touch the slabs.
     * The memory stays mapped for the rest of this JVM, as it would in an application's.
     */
    @Test
    void aFrontEndThatCannotBeClosedLeavesTheMemoryMappedAndTheArenaClosed() {
        FaultyMemory os = new FaultyMemory();
        OneSlabProvider provider = new OneSlabProvider();
        CpuSlabAllocator allocator = new CpuSlabAllocator(config(os), new FrontEndSelection.Choice(provider, "test"), false);
        allocator.free(allocator.malloc(64));
        IllegalStateException failure = new IllegalStateException("test: close() fails");
        provider.closeFailure = failure;
        long mapped = os.mappedBytes.get();

        IllegalStateException thrown = assertThrows(IllegalStateException.class, allocator::close);

        assertSame(failure, thrown);
        assertEquals(List.of(), List.of(thrown.getSuppressed()), "nothing else failed");
        assertAll(() -> assertThrows(IllegalStateException.class, () -> provider.layout.isStopped(0),
                        "the arena is closed: the slabs' view fails"),
                () -> assertEquals(mapped, os.mappedBytes.get(), "nothing is unmapped"),
                () -> assertEquals(SLAB_BYTES + PageHeap.REGION_BYTES, mapped, "the slabs and the page heap's region were mapped"),
                () -> assertThrows(IllegalStateException.class, () -> allocator.malloc(64), "the allocator is closed"));
        allocator.close(); // does nothing: a close is not tried again
    }

    /**
     * A close whose thread is interrupted while it waits for the maintenance thread still waits until the
     * tick under way has finished: that tick drains slabs and hands their pages back with a raw madvise,
     * which must never run once close has unmapped them.
     */
    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anInterruptedCloseStillWaitsForTheTickUnderWay() throws Exception {
        HeldTick clock = new HeldTick();
        FaultyMemory os = new FaultyMemory();
        CpuSlabAllocator allocator = new CpuSlabAllocator(config(os).withMaintenance(0, 60_000, 1).withMaintenanceClock(clock),
                new FrontEndSelection.Choice(new OneSlabProvider(), "test"), false);
        clock.ticking.await();
        Thread closer = Thread.ofPlatform().start(allocator::close);
        try {
            for (int i = 0; i < 10 && closer.isAlive(); i++) {
                closer.interrupt();
                closer.join(20);
            }
            assertTrue(closer.isAlive(), "close returned while a tick was under way");
            assertEquals(SLAB_BYTES, os.mappedBytes.get(), "nothing is unmapped while the tick runs");
        } finally {
            clock.release.countDown();
            closer.join();
        }
        assertEquals(0, os.mappedBytes.get(), "once the tick finished, close unmapped everything");
    }

    /** The first tick holds on until released, deaf to interrupts: a tick under way when close comes. */
    private static final class HeldTick implements MaintenanceClock {
        final CountDownLatch ticking = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public long nanoTime() { // read by the maintenance thread as a tick starts
            if (ticking.getCount() > 0) {
                ticking.countDown();
                boolean interrupted = false;
                while (release.getCount() > 0) {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            return System.nanoTime();
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }
    }

    private static AllocatorConfig config(FaultyMemory os) {
        return AllocatorConfig.defaults(CpuSlab.FrontEnd.LOCKED).withOsMemory(os).withHugePages(CpuSlab.HugePages.OFF).withJmx(false);
    }
}
