package io.cpuslab.tools;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.core.BlockPattern;
import io.cpuslab.core.Bytes;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The soak run behind {@code ./cpuslab stress --seconds N --threads T}: threads allocate blocks of
 * random sizes with random lifetimes, free some of them on other threads, fill every block with a
 * pattern derived from its address and check it on free; the allocator drains and releases memory every
 * few seconds. A progress line every {@link #REPORT_MILLIS} ms shows operations, bytes, RSS and the
 * allocator's view. Ends with every block freed: any corruption, or bytes still in use, is a failure.
 *
 * <pre>{@code
 * Soak.Summary s = Soak.run(30, 8, System.out);
 * if (!s.passed()) System.exit(1);
 * }</pre>
 */
public final class Soak {
    static final long REPORT_MILLIS = 2_000;
    private static final long RELEASE_MILLIS = 10_000;
    /** Live blocks a thread keeps at most; lifetimes are random within it. */
    private static final int LIVE_PER_THREAD = 512;
    /** Blocks waiting in the handoff queue above which every thread polls it. */
    private static final int HANDOFF_BOUND = 1024;
    /** Operations between updates of the shared counters. */
    private static final int BATCH = 256;

    private Soak() {
    }

    /**
     * @param operations malloc + free pairs done
     * @param bytes      bytes allocated in total
     * @param corrupted  blocks whose pattern was broken on free
     * @param leakedBytes application bytes the allocator still counted after everything was freed
     */
    public record Summary(long seconds, int threads, long operations, long bytes, long crossThreadFrees,
                          long corrupted, long leakedBytes, long peakRssBytes, long finalRssBytes, String firstProblem) {
        public boolean passed() {
            return corrupted == 0 && leakedBytes == 0 && firstProblem == null;
        }
    }

    private record Block(long address, long size) {
    }

    public static Summary run(long seconds, int threads, PrintStream out) throws InterruptedException {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            out.println("soak: " + threads + " threads for " + seconds + " s on " + allocator.frontEnd());
            ConcurrentLinkedQueue<Block> handoff = new ConcurrentLinkedQueue<>();
            AtomicLong operations = new AtomicLong(), bytes = new AtomicLong(), crossThread = new AtomicLong(),
                    corrupted = new AtomicLong();
            AtomicReference<String> problem = new AtomicReference<>();
            AtomicInteger queued = new AtomicInteger();
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = t;
                workers.add(Thread.ofPlatform().name("soak-" + t).start(() -> {
                    try {
                        work(allocator, seed, end, handoff, operations, bytes, crossThread, corrupted, queued, problem);
                    } catch (Throwable e) {
                        problem.compareAndSet(null, Thread.currentThread().getName() + ": " + e);
                    }
                }));
            }
            long peakRss = 0, lastRelease = System.nanoTime(), lastOps = 0, lastReport = start;
            while (workers.stream().anyMatch(Thread::isAlive)) {
                Thread.sleep(REPORT_MILLIS);
                long now = System.nanoTime();
                if ((now - lastRelease) / 1_000_000 >= RELEASE_MILLIS) {
                    allocator.releaseMemory();
                    lastRelease = now;
                }
                long rss = rssBytes();
                peakRss = Math.max(peakRss, rss);
                AllocatorStats s = allocator.stats();
                long ops = operations.get();
                out.printf(Locale.ROOT, "soak: %5.1f s  %,12d ops (%,.0f/s)  in use %10s  cached %10s  RSS %10s  corrupted %d%n",
                        (now - start) / 1e9, ops, (ops - lastOps) / ((now - lastReport) / 1e9), Bytes.format(s.applicationBytes()),
                        Bytes.format(s.cachedBytes()), Bytes.format(rss), corrupted.get());
                lastOps = ops;
                lastReport = now;
            }
            for (Thread w : workers) {
                w.join();
            }
            for (Block b; (b = handoff.poll()) != null; ) {
                release(allocator, b, corrupted, problem);
            }
            long leaked = allocator.stats().applicationBytes();
            allocator.releaseMemory();
            long backed = allocator.stats().residentBytes();
            Summary summary = new Summary(seconds, threads, operations.get(), bytes.get(), crossThread.get(), corrupted.get(),
                    leaked, peakRss, rssBytes(), problem.get());
            out.printf(Locale.ROOT, "soak %s: %d s, %d threads, %,d malloc+free pairs, %s allocated, %,d freed on another thread, "
                            + "corrupted %d, leaked %s; peak RSS %s; after releaseMemory(): RSS %s, allocator backed %s%s%n",
                    summary.passed() ? "PASSED" : "FAILED", seconds, threads, summary.operations(), Bytes.format(summary.bytes()),
                    summary.crossThreadFrees(), summary.corrupted(), Bytes.format(leaked), Bytes.format(peakRss),
                    Bytes.format(summary.finalRssBytes()), Bytes.format(backed),
                    summary.firstProblem() == null ? "" : "; first problem: " + summary.firstProblem());
            return summary;
        }
    }

    private static void work(OffHeapAllocator allocator, long seed, long end, ConcurrentLinkedQueue<Block> handoff,
                             AtomicLong operations, AtomicLong bytes, AtomicLong crossThread, AtomicLong corrupted,
                             AtomicInteger queued, AtomicReference<String> problem) {
        SplittableRandom random = new SplittableRandom(seed);
        Block[] live = new Block[LIVE_PER_THREAD];
        while (System.nanoTime() < end) {
            long allocated = 0, foreign = 0;
            for (int i = 0; i < BATCH; i++) {
                int slot = random.nextInt(LIVE_PER_THREAD);   // a random victim: random lifetimes
                if (live[slot] != null) {
                    if (random.nextInt(8) == 0) {
                        handoff.add(live[slot]);              // freed later by whichever thread polls it
                        queued.incrementAndGet();
                    } else {
                        release(allocator, live[slot], corrupted, problem);
                    }
                }
                long size = size(random);
                long p = allocator.malloc(size);
                BlockPattern.fill(p, size);
                live[slot] = new Block(p, size);
                allocated += size;
                // Poll as often as we hand off, and always while the queue is over its bound: otherwise the
                // queue is a random walk and the live set grows without limit over a long run.
                Block other = random.nextInt(8) == 0 || queued.get() > HANDOFF_BOUND ? handoff.poll() : null;
                if (other != null) {
                    queued.decrementAndGet();
                    release(allocator, other, corrupted, problem);
                    foreign++;
                }
            }
            operations.addAndGet(BATCH); // once a batch, so the progress line moves
            bytes.addAndGet(allocated);
            crossThread.addAndGet(foreign);
        }
        for (Block b : live) {
            if (b != null) {
                release(allocator, b, corrupted, problem);
            }
        }
    }

    /** Mostly small, some medium, a few large. */
    private static long size(SplittableRandom random) {
        int kind = random.nextInt(1000);
        return kind < 700 ? random.nextInt(1025) : kind < 995 ? 1024 + random.nextInt(255 * 1024) : 256 * 1024 + random.nextInt(4 << 20);
    }

    private static void release(OffHeapAllocator allocator, Block b, AtomicLong corrupted, AtomicReference<String> problem) {
        String broken = BlockPattern.check(b.address(), b.size());
        if (broken != null) {
            corrupted.incrementAndGet();
            problem.compareAndSet(null, broken);
        }
        allocator.free(b.address());
    }

    /** VmRSS of this process from /proc/self/status; 0 where there is no such file. */
    public static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
