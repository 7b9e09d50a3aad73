package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many threads against one allocator, every front end: more threads than cores, mixed sizes, frees on
 * the allocating thread and on others, each block's contents checked on free; 10,000 virtual threads;
 * close racing with work.
 */
public abstract class AllocatorConcurrencyTest {
    protected abstract CpuSlab.FrontEnd frontEnd();

    protected AllocatorConfig config() {
        return AllocatorConfig.defaults(frontEnd()).withHugePages(AllocatorContractTest.HUGE_PAGES);
    }

    private record Block(long address, long size) {
    }

    /** Mostly small, some medium, a few large: the mix a server sees. */
    private static long size(SplittableRandom random) {
        int kind = random.nextInt(100);
        return kind < 70 ? random.nextInt(1025) : kind < 97 ? 1024 + random.nextInt(256 * 1024) : 256 * 1024 + random.nextInt(2 << 20);
    }

    @Test
    void randomMixedWorkFromManyThreadsNeverOverlapsOrCorrupts() throws InterruptedException {
        mixedWork(config());
    }

    /**
     * The same work while the maintenance thread ticks back to back and, the soft limit being tiny, drains
     * every per-CPU and transfer cache each time: a drain racing a push or pop must neither lose an object
     * (bytes in use would not return to 0) nor duplicate one (handed out while live).
     */
    @Test
    void randomMixedWorkRacingBackgroundDrainsLosesAndDuplicatesNothing() throws InterruptedException {
        long drainsDuringWork = mixedWork(config().withSoftMemoryLimit(1 << 20).withMaintenance(64L << 20, 1, 1));
        assertTrue(drainsDuringWork > 0, "the background thread drained caches while the work ran");
    }

    /** Checked mode's canaries and poison under the same work: nothing a correct program does trips them. */
    @Test
    void randomMixedWorkInCheckedModeTripsNoCheck() throws InterruptedException {
        mixedWork(config().withChecked(true));
    }

    /**
     * Runs the mixed work and checks everything; returns the drains counted when the workers finished. A
     * maintained allocator's thread ticks on a {@link ManualClock} advanced by a thread of its own for as
     * long as the workers run: the ticks race the workers as real ones would, and once the last advance
     * has returned nothing moves, so the stats can be checked to the byte.
     */
    private long mixedWork(AllocatorConfig config) throws InterruptedException {
        int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
        int operations = 40_000;
        ManualClock clock = new ManualClock();
        try (OffHeapAllocator a = CpuSlabAllocator.create(config.withMaintenanceClock(clock))) {
            ConcurrentHashMap<Long, Long> live = new ConcurrentHashMap<>();
            ConcurrentLinkedQueue<Block> handoff = new ConcurrentLinkedQueue<>();
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong crossThreadFrees = new AtomicLong();
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                long seed = t;
                Thread.ofPlatform().name("mixed-" + t).start(() -> {
                    try {
                        SplittableRandom random = new SplittableRandom(seed);
                        List<Block> mine = new ArrayList<>();
                        for (int i = 0; i < operations && failure.get() == null; i++) {
                            int op = random.nextInt(100);
                            if (op < 50 || mine.size() < 16) {
                                long size = size(random);
                                long p = a.malloc(size);
                                if (live.putIfAbsent(p, size) != null) {
                                    failure.compareAndSet(null, "0x" + Long.toHexString(p) + " handed out while live");
                                }
                                BlockPattern.fill(p, size);
                                mine.add(new Block(p, size));
                            } else if (op < 80) {
                                release(a, mine.remove(random.nextInt(mine.size())), live, failure, random);
                            } else if (op < 90) {
                                handoff.add(mine.remove(random.nextInt(mine.size())));
                            } else {
                                Block other = handoff.poll();
                                if (other != null) {
                                    release(a, other, live, failure, random);
                                    crossThreadFrees.incrementAndGet();
                                }
                            }
                        }
                        for (Block b : mine) {
                            release(a, b, live, failure, random);
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e.toString());
                    } finally {
                        done.countDown();
                    }
                });
            }
            Thread ticker = Thread.ofPlatform().name("ticker").start(() -> {
                try {
                    while (config.maintained() && done.getCount() > 0) {
                        clock.advance(config.maintenancePeriodMillis());
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, "ticker: " + e);
                }
            });
            done.await();
            ticker.join();
            long drains = a.stats().slabs().stream().mapToLong(AllocatorStats.SlabStats::drains).sum();
            for (Block b; (b = handoff.poll()) != null; ) {
                release(a, b, live, failure, new SplittableRandom(0));
            }
            assertNull(failure.get());
            assertTrue(crossThreadFrees.get() > 1000, "cross-thread frees happened: " + crossThreadFrees);
            AllocatorStats s = a.stats();
            assertEquals(0, s.applicationBytes(), "bytes in use back to 0");
            assertTrue(addsUp(s), "mapped bytes are the sum of their parts: " + s);
            return drains;
        }
    }

    private static boolean addsUp(AllocatorStats s) {
        return s.mappedBytes() == s.applicationBytes() + s.cpuCacheBytes() + s.transferCacheBytes() + s.centralCacheBytes()
                + s.spanOverheadBytes() + s.pageHeapFreeBytes() + s.releasedBytes() + s.metadataBytes();
    }

    private static void release(OffHeapAllocator a, Block b, ConcurrentHashMap<Long, Long> live,
                                AtomicReference<String> failure, SplittableRandom random) {
        check(b, failure);
        live.remove(b.address());
        if (random.nextBoolean()) {
            a.free(b.address());
        } else {
            a.freeSized(b.address(), b.size());
        }
    }

    @Test
    void tenThousandVirtualThreadsAllocateAndFreeCorrectly() throws InterruptedException {
        try (OffHeapAllocator a = CpuSlabAllocator.create(config());
             ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicReference<String> failure = new AtomicReference<>();
            for (int t = 0; t < 10_000; t++) {
                long seed = t;
                executor.execute(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    List<Block> blocks = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        long size = random.nextInt(4097);
                        long p = a.malloc(size);
                        BlockPattern.fill(p, size);
                        blocks.add(new Block(p, size));
                        Thread.yield(); // lets the scheduler move this thread to another carrier
                    }
                    for (Block b : blocks) {
                        String broken = BlockPattern.check(b.address(), b.size());
                        if (broken != null) {
                            failure.compareAndSet(null, broken);
                        }
                        a.free(b.address());
                    }
                });
            }
            executor.shutdown();
            assertTrue(executor.awaitTermination(2, java.util.concurrent.TimeUnit.MINUTES));
            assertNull(failure.get());
            AllocatorStats s = a.stats();
            assertEquals(0, s.applicationBytes());
            // Each slab within its budget and a few grants (64 KiB at most here) that a recount could not see
            // (CpuCache.recount); one cache per thread would be far beyond this.
            for (AllocatorStats.SlabStats slab : s.slabs()) {
                assertTrue(slab.cachedBytes() <= CpuSlab.DEFAULT_PER_CPU_CACHE_BYTES + 4 * 65536,
                        "per-CPU caches bounded by slabs, not threads: " + slab);
            }
        }
    }

    /**
     * Interrupts land at random points of every operation (malloc, free, realloc, releaseMemory): the
     * allocator never waits interruptibly, so nothing may be lost, duplicated or corrupted, and the
     * interrupt status must reach the caller untouched.
     */
    @Test
    void interruptsMidOperationLoseNothing() throws InterruptedException {
        try (OffHeapAllocator a = CpuSlabAllocator.create(config())) {
            int threads = 4;
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong interruptsSeen = new AtomicLong();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                workers.add(Thread.ofPlatform().name("interrupted-" + t).start(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    List<Block> mine = new ArrayList<>();
                    try {
                        for (int i = 0; i < 30_000 && failure.get() == null; i++) {
                            int op = random.nextInt(100);
                            if (op < 50 || mine.isEmpty()) {
                                long size = size(random);
                                long p = a.malloc(size);
                                BlockPattern.fill(p, size);
                                mine.add(new Block(p, size));
                            } else if (op < 95) {
                                Block b = mine.remove(random.nextInt(mine.size()));
                                check(b, failure);
                                a.free(b.address());
                            } else if (op < 99) {
                                Block b = mine.remove(random.nextInt(mine.size()));
                                check(b, failure);
                                long size = size(random);
                                long p = a.realloc(b.address(), size);
                                BlockPattern.fill(p, size);
                                mine.add(new Block(p, size));
                            } else {
                                a.releaseMemory();
                            }
                            if (Thread.interrupted()) {
                                interruptsSeen.incrementAndGet();
                            }
                        }
                        for (Block b : mine) {
                            check(b, failure);
                            a.free(b.address());
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e.toString());
                    }
                }));
            }
            SplittableRandom random = new SplittableRandom(99);
            while (workers.stream().anyMatch(Thread::isAlive)) {
                workers.get(random.nextInt(threads)).interrupt();
                Thread.onSpinWait();
            }
            for (Thread w : workers) {
                w.join();
            }
            assertNull(failure.get());
            assertTrue(interruptsSeen.get() > 100, "interrupts reached the workers: " + interruptsSeen);
            assertEquals(0, a.stats().applicationBytes(), "nothing lost");
        }
    }

    private static void check(Block b, AtomicReference<String> failure) {
        String broken = BlockPattern.check(b.address(), b.size());
        if (broken != null) {
            failure.compareAndSet(null, broken);
        }
    }

    @Test
    void closeRacingWithWorkEitherCompletesOrThrowsIllegalState() throws InterruptedException {
        for (int round = 0; round < 5; round++) {
            OffHeapAllocator a = CpuSlabAllocator.create(config());
            int threads = 4;
            AtomicReference<Throwable> unexpected = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(threads);
            CountDownLatch done = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                long seed = t;
                Thread.ofPlatform().start(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    started.countDown();
                    try {
                        while (true) {
                            long size = random.nextInt(3) == 0 ? 300_000 : random.nextInt(2000);
                            long p = a.mallocZeroed(size);
                            a.free(p);
                        }
                    } catch (IllegalStateException expected) {
                        // closed under our feet: the documented outcome
                    } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                    } finally {
                        done.countDown();
                    }
                });
            }
            started.await();
            Thread.sleep(20);
            a.close();
            done.await();
            assertNull(unexpected.get());
        }
    }
}
