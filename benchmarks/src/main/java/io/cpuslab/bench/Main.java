package io.cpuslab.bench;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.rseq.OverlayProbe;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The main job behind {@code ./cpuslab}: {@code info} says what this machine gets, {@code bench} measures
 * cpuslab side by side with the allocators people use ({@link Bench}), {@code demo} runs a short
 * allocate/free workload on platform and virtual threads and prints the front end and the stats,
 * {@code stress} is the soak run ({@link Soak}).
 *
 * <pre>./cpuslab bench --quick --workloads pair-64,bulk-1000 --peers cpuslab-rseq,tcmalloc</pre>
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String command = args.length == 0 ? "help" : args[0];
        switch (command) {
            case "info" -> info();
            case "bench" -> bench(args);
            case "demo" -> demo();
            case "stress" -> stress(args);
            default -> usage(command.equals("help") ? 0 : 2);
        }
    }

    /** The synopsis; with {@code help} (exit 0) also what bench's options do and every name they take. */
    private static void usage(int exit) {
        System.out.println("usage: cpuslab info | bench [--quick | --full] [--workloads KEY,...] [--peers NAME,...] | demo"
                + " | stress [--seconds N] [--threads T]");
        if (exit != 0) {
            System.exit(exit);
        }
        System.out.println("  bench --quick: the key workloads, short settings; --full: every workload, the benchmarks' own settings");
        System.out.println("  bench --workloads: only these (any of the full suite's, with the mode's settings), and the floor");
        System.out.println("        with any that measures peers: " + String.join(",", Plan.workloadKeys()));
        System.out.println("  bench --peers: only these: " + String.join(",", Peers.all().stream().map(Peers.Spec::name).toList()));
        System.exit(exit);
    }

    /** {@code --quick} (default) or {@code --full}, optionally narrowed to some workloads and peers ({@link Plan#parse}). */
    private static void bench(String[] args) {
        Plan plan = null;
        try {
            plan = Plan.parse(Arrays.asList(args).subList(1, args.length));
        } catch (IllegalArgumentException e) {
            System.out.println("cpuslab bench: " + e.getMessage());
            usage(2);
        }
        Bench.run(plan, Bench.outputDirectory(), System.out);
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
        for (Peers.Spec spec : Peers.all()) {
            String why = Peers.unavailable(spec);
            System.out.printf(Locale.ROOT, "peer %-18s %s%n", spec.name(), why == null
                    ? (spec.environment() == null ? "available" : "available in a JVM started with " + spec.environment())
                    : "skipped: " + why);
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
