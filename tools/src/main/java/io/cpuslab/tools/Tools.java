package io.cpuslab.tools;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.rseq.OverlayProbe;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The launcher's small jobs, without the benchmarks: {@code info} says what this machine gets,
 * {@code demo} runs a short allocate/free workload on platform and virtual threads and prints the front
 * end and the stats, {@code stress} is the soak run ({@link Soak}). {@code ./cpuslab bench} is the
 * benchmarks module's.
 *
 * <pre>./cpuslab stress --seconds 600</pre>
 */
public final class Tools {
    /** Every command of {@code ./cpuslab}, for both jars' usage lines. */
    public static final String SYNOPSIS = "usage: cpuslab info | bench [--quick | --full] [--workloads KEY,...] [--peers NAME,...]"
            + " | demo | stress [--seconds N] [--threads T] | help";

    private Tools() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        switch (command) {
            case "info" -> info();
            case "demo" -> demo();
            case "stress" -> stress(args);
            default -> usage(command.equals("help") ? 0 : 2);
        }
    }

    private static void usage(int exit) {
        System.out.println(SYNOPSIS);
        System.exit(exit);
    }

    /** The soak run; exits 1 on corruption or a leak. */
    private static void stress(String[] args) throws InterruptedException {
        long seconds = 30;
        int threads = 2 * Runtime.getRuntime().availableProcessors();
        for (int i = 1; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : "";
            try {
                switch (args[i]) {
                    case "--seconds" -> seconds = Long.parseLong(value);
                    case "--threads" -> threads = Integer.parseInt(value);
                    default -> {
                        System.out.println("cpuslab stress: unknown option " + args[i]);
                        usage(2);
                    }
                }
            } catch (NumberFormatException e) {
                System.out.println("cpuslab stress: " + args[i] + " needs a number, got '" + value + "'");
                usage(2);
            }
            i++;
        }
        if (seconds <= 0 || threads <= 0) {
            System.out.println("cpuslab stress: --seconds and --threads must be positive");
            usage(2);
        }
        System.exit(Soak.run(seconds, threads, System.out).passed() ? 0 : 1);
    }

    private static void info() {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            System.out.println("front end:  " + allocator.frontEnd());
            System.out.println("overlay:    " + OverlayProbe.result() + " (kernel probe; overlay mode runs in JVMs started with "
                    + "GLIBC_TUNABLES=glibc.pthread.rseq=0 and -Dcpuslab.rseqMode=OVERLAY)");
            System.out.println("processors: " + Runtime.getRuntime().availableProcessors() + " (" + Machine.cpuModel() + ")");
            System.out.println("java:       " + Runtime.version() + " (" + System.getProperty("java.home") + ")");
            System.out.println("os:         " + System.getProperty("os.name") + " " + System.getProperty("os.version")
                    + " " + System.getProperty("os.arch"));
        }
    }

    private static void demo() throws Exception {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            System.out.println("front end: " + allocator.frontEnd());
            int threads = 2 * Runtime.getRuntime().availableProcessors();
            run(allocator, "platform", Executors.newFixedThreadPool(threads), threads, 2_000_000);
            run(allocator, "virtual", Executors.newVirtualThreadPerTaskExecutor(), 10_000, 2_000);
            long[] live = new long[10_000];
            for (int i = 0; i < live.length; i++) {
                live[i] = allocator.malloc(16 + i % 4000);
            }
            System.out.println();
            System.out.println("With " + live.length + " blocks live:");
            System.out.println(allocator.statsReport());
            for (long p : live) {
                allocator.free(p);
            }
            allocator.releaseMemory();
            AllocatorStats s = allocator.stats();
            System.out.printf(Locale.ROOT, "After free + releaseMemory(): %d bytes in use, %d bytes cached, %d bytes backed%n",
                    s.applicationBytes(), s.cachedBytes(), s.residentBytes());
        }
    }

    /** Each task allocates and frees {@code operations} mixed-size blocks, touching each. */
    private static void run(OffHeapAllocator allocator, String kind, ExecutorService executor, int tasks, int operations)
            throws Exception {
        long start = System.nanoTime();
        try (executor) {
            Future<?>[] futures = new Future<?>[tasks];
            for (int t = 0; t < tasks; t++) {
                long seed = t;
                futures[t] = executor.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    long[] ring = new long[64];
                    for (int i = 0; i < operations; i++) {
                        int slot = i & 63;
                        allocator.free(ring[slot]);
                        long size = random.nextInt(16) == 0 ? random.nextInt(64 * 1024) : 16 + random.nextInt(512);
                        ring[slot] = allocator.malloc(size);
                        MemorySegment.ofAddress(ring[slot]).reinterpret(size).fill((byte) i);
                    }
                    for (long p : ring) {
                        allocator.free(p);
                    }
                });
            }
            for (Future<?> f : futures) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long total = (long) tasks * operations;
        System.out.printf(Locale.ROOT, "%,d %s threads: %,d malloc+free pairs in %.2f s (%,.0f pairs/s, each block written)%n",
                tasks, kind, total, seconds, total / seconds);
    }
}
