package io.cpuslab.bench;

import io.cpuslab.tools.Soak;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The memory workload: how much memory an allocator keeps when many threads have used it. In a JVM of
 * its own per peer (RSS is per process), three phases run one after the other: 2 platform threads,
 * then 1,000 platform threads, then 10,000 virtual threads; each thread does malloc+free work (random
 * replacement over 64 live blocks of 16 B to 4 KiB), frees everything, and stays alive until the phase
 * is measured, so per-thread caches still exist. Measured per phase: the process's RSS
 * ({@code VmRSS}) above its value before the first phase, and the free memory the allocator itself
 * says it keeps ({@link Peer#cachedBytes()}, where it reports one).
 *
 * <pre>{@code
 * Footprint.Report r = Footprint.measure(Peers.spec("glibc"), Settings.QUICK, Path.of("target/cpuslab-bench"));
 * }</pre>
 */
public final class Footprint {
    private static final int LIVE = 64;
    private static final int MIN_SIZE = 16;
    private static final int MAX_SIZE = 4096;
    private static final long CHILD_TIMEOUT_SECONDS = 300;

    /** One phase's figures; {@code cachedBytes} is {@link Peer#NOT_REPORTED} where the peer has none. */
    public record Phase(String label, long rssGrowthBytes, long cachedBytes) {
    }

    /** A peer's phases, or why they could not be measured. */
    public record Report(String peer, String cachedSource, List<Phase> phases, String failure) {
    }

    private Footprint() {
    }

    /** Why a peer is left out of this workload, or null. */
    static String excluded(Peers.Spec spec) {
        return spec.kind() == Peers.Kind.JDK
                ? "its memory comes from glibc malloc, so its footprint is glibc's"
                : null;
    }

    /** Child JVM: {@code peer platformThreads virtualThreads operationsPerThread resultFile}. */
    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException("usage: Footprint peer platformThreads virtualThreads operationsPerThread resultFile");
        }
        Report report;
        try (Peer peer = Peers.open(args[0])) {
            report = run(args[0], peer, Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        }
        Properties p = new Properties();
        p.setProperty("cachedSource", report.cachedSource());
        p.setProperty("phases", Integer.toString(report.phases().size()));
        for (int i = 0; i < report.phases().size(); i++) {
            Phase phase = report.phases().get(i);
            p.setProperty(i + ".label", phase.label());
            p.setProperty(i + ".rssGrowthBytes", Long.toString(phase.rssGrowthBytes()));
            p.setProperty(i + ".cachedBytes", Long.toString(phase.cachedBytes()));
        }
        try (Writer w = Files.newBufferedWriter(Path.of(args[4]))) {
            p.store(w, "cpuslab footprint of " + args[0]);
        }
    }

    /** Runs the phases for one peer in a JVM of its own (with its child environment, if any). */
    static Report measure(Peers.Spec spec, Settings settings, Path directory) {
        Path result = directory.resolve("footprint-" + spec.name() + ".properties");
        Path log = directory.resolve("footprint-" + spec.name() + ".log");
        List<String> command = List.of(ChildEnvironment.java(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Footprint.class.getName(), spec.name(),
                Integer.toString(settings.platformThreads()), Integer.toString(settings.virtualThreads()),
                Integer.toString(settings.operationsPerThread()), result.toString());
        try {
            Files.createDirectories(directory);
            Files.deleteIfExists(result);
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            if (spec.environment() != null) {
                builder.environment().put(spec.environment().variable(), spec.environment().value());
            }
            Process child = builder.start();
            if (!child.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                return failed(spec, "no result within " + CHILD_TIMEOUT_SECONDS + " s (log: " + log + ")");
            }
            if (child.exitValue() != 0 || !Files.exists(result)) {
                return failed(spec, "child JVM exited with " + child.exitValue() + ": " + lastLines(log));
            }
            return read(spec.name(), result);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(spec, "interrupted");
        }
    }

    /** The phases, in this JVM. */
    static Report run(String name, Peer peer, int platformThreads, int virtualThreads, int operations)
            throws InterruptedException {
        long baseline = Soak.rssBytes();
        List<Phase> phases = new ArrayList<>();
        phases.add(phase("2 platform threads", peer, Thread.ofPlatform(), 2, operations, baseline));
        phases.add(phase(String.format("%,d platform threads", platformThreads), peer, Thread.ofPlatform(),
                platformThreads, operations, baseline));
        phases.add(phase(String.format("%,d virtual threads", virtualThreads), peer, Thread.ofVirtual(),
                virtualThreads, operations, baseline));
        return new Report(name, peer.cachedBytesSource(), List.copyOf(phases), null);
    }

    private static Phase phase(String label, Peer peer, Thread.Builder threads, int count, int operations, long baseline)
            throws InterruptedException {
        CountDownLatch worked = new CountDownLatch(count);
        CountDownLatch release = new CountDownLatch(1);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> started = new ArrayList<>(count);
        for (int t = 0; t < count; t++) {
            long seed = t;
            started.add(threads.start(() -> {
                try {
                    work(peer, seed, operations);
                } catch (Throwable e) {
                    errors.add(e);
                } finally {
                    worked.countDown();
                }
                awaitQuietly(release);
            }));
        }
        Phase phase;
        try {
            worked.await();
            phase = new Phase(label, Soak.rssBytes() - baseline, peer.cachedBytes());
        } finally {
            release.countDown();   // whatever happened, the threads must end or the JVM never exits
        }
        for (Thread t : started) {
            t.join();
        }
        if (!errors.isEmpty()) {
            IllegalStateException e = new IllegalStateException(errors.size() + " threads failed in phase " + label);
            errors.forEach(e::addSuppressed);
            throw e;
        }
        return phase;
    }

    private static void work(Peer peer, long seed, int operations) {
        SplittableRandom random = new SplittableRandom(seed);
        try (Slots slots = peer.slots(LIVE)) {
            for (int i = 0; i < operations; i++) {
                int slot = random.nextInt(LIVE);
                if (slots.isFull(slot)) {
                    slots.free(slot);
                }
                slots.allocate(slot, random.nextInt(MIN_SIZE, MAX_SIZE + 1));
            }
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static Report read(String peer, Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        List<Phase> phases = new ArrayList<>();
        int count = Integer.parseInt(p.getProperty("phases"));
        for (int i = 0; i < count; i++) {
            phases.add(new Phase(p.getProperty(i + ".label"), Long.parseLong(p.getProperty(i + ".rssGrowthBytes")),
                    Long.parseLong(p.getProperty(i + ".cachedBytes"))));
        }
        return new Report(peer, p.getProperty("cachedSource"), List.copyOf(phases), null);
    }

    private static Report failed(Peers.Spec spec, String why) {
        return new Report(spec.name(), null, List.of(), why);
    }

    private static String lastLines(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }
}
