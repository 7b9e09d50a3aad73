package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.SlabLayout;
import io.cpuslab.core.SlabLock;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The rseq torture: {@code 8 × CPUs} threads push, pop, push-batch, pop-batch and grow on unique
 * tokens through the rseq front end, while a drainer thread stops random slabs, drains them and
 * gives them random new capacities. At the end every token must be found exactly once: in a worker's
 * hands, in what the drainer took, or in the slabs. Runs in-process from the tests and as a main
 * class in forked JVMs ({@code taskset -c 0}, {@code GLIBC_TUNABLES=glibc.pthread.rseq=0}).
 *
 * <p>The JVM runs the self-checking library: a commit on the wrong CPU's slab kills it at once.
 */
final class TokenTorture {
    private static final int CLASSES = 5;
    private static final int TOKENS_PER_THREAD = 512;

    /** Spin loops injected before every commit: widens the windows the kernel must abort (librseq's -1..-9). */
    static final int INJECT_LOOPS = 100;
    /** How long the 6.19 simulation may take to show its failure (typically 2 to 5 s on an idle 2-core machine). */
    private static final int MAX_CATCH_SECONDS = 120;

    /**
     * @param mode               compliant or overlay sections
     * @param missedInvalidation overlay only: each worker puts its last cached slab word back before every
     *                           push and pop, as a kernel that stopped rewriting cpu_id_start (6.19) would
     *                           leave it; the run is then expected to fail
     */
    record Options(int seconds, CpuSlab.Index index, boolean virtualThreads, boolean signalStorm,
                   CpuSlab.RseqMode mode, boolean missedInvalidation) {
        Options(int seconds, CpuSlab.Index index, boolean virtualThreads, boolean signalStorm) {
            this(seconds, index, virtualThreads, signalStorm, CpuSlab.RseqMode.COMPLIANT, false);
        }

        Options overlay() {
            return new Options(seconds, index, virtualThreads, signalStorm, CpuSlab.RseqMode.OVERLAY, missedInvalidation);
        }

        static Options parse(String[] args) {
            return new Options(Integer.parseInt(args[0]), CpuSlab.Index.valueOf(args[1]), Boolean.parseBoolean(args[2]),
                    Boolean.parseBoolean(args[3]), CpuSlab.RseqMode.valueOf(args[4]), Boolean.parseBoolean(args[5]));
        }

        String[] args() {
            return new String[] {String.valueOf(seconds), index.name(), String.valueOf(virtualThreads),
                    String.valueOf(signalStorm), mode.name(), String.valueOf(missedInvalidation)};
        }
    }

    /** Summary of a passed run; throws {@link AssertionError} naming the first lost or duplicated token. */
    static String run(Options options) throws InterruptedException {
        if (RseqLibrary.UNAVAILABLE != null) {
            throw new AssertionError("rseq unavailable: " + RseqLibrary.UNAVAILABLE);
        }
        int threads = 8 * Runtime.getRuntime().availableProcessors();
        int tokens = threads * TOKENS_PER_THREAD;
        try (Arena arena = Arena.ofShared()) {
            SlabLayout layout = TestSlabs.onEveryCpu(arena);
            int slabs = layout.slabCount();
            RseqFrontEnd frontEnd = options.mode() == CpuSlab.RseqMode.OVERLAY
                    ? new OverlayFrontEnd(layout, options.index(), "torture") : new RseqFrontEnd(layout, options.index(), "torture");
            long deadline = System.nanoTime() + options.seconds() * 1_000_000_000L;
            ConcurrentLinkedQueue<long[]> found = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong operations = new AtomicLong();
            SelfCheckHooks.injectLoops(INJECT_LOOPS);
            SignalStorm storm = options.signalStorm() ? SignalStorm.start(100) : null;
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long[] mine = new long[tokens];
                int first = t * TOKENS_PER_THREAD;
                for (int i = 0; i < TOKENS_PER_THREAD; i++) {
                    mine[i] = token(first + i);
                }
                long seed = t;
                Runnable work = () -> {
                    try {
                        if (storm != null && !options.virtualThreads()) {
                            storm.enlist();
                        }
                        operations.addAndGet(work(frontEnd, mine, TOKENS_PER_THREAD, seed, deadline, found,
                                options.missedInvalidation()));
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                workers.add(options.virtualThreads() ? Thread.ofVirtual().start(work) : Thread.ofPlatform().start(work));
            }
            Thread drainer = Thread.ofPlatform().start(() -> drain(frontEnd, layout, slabs, deadline, found, failure));
            for (Thread w : workers) {
                w.join();
            }
            drainer.join();
            long signals = storm == null ? 0 : storm.stop();
            SelfCheckHooks.injectLoops(0);
            if (failure.get() != null) {
                throw new AssertionError("torture thread failed", failure.get());
            }
            long[] buffer = new long[SlabLayout.maxCapacity(1)];
            for (int slab = 0; slab < slabs; slab++) {
                for (int sc = 1; sc <= CLASSES; sc++) {
                    int n = layout.drain(slab, sc, buffer);
                    found.add(java.util.Arrays.copyOf(buffer, n));
                }
            }
            frontEnd.close();
            verify(found, tokens);
            return String.format("%d tokens exactly once after %,d operations by %d %s threads on %d slabs (%s mode, %s index, %d loops injected before each commit)%s",
                    tokens, operations.get(), threads, options.virtualThreads() ? "virtual" : "platform", slabs,
                    options.mode(), options.index(), INJECT_LOOPS, storm == null ? "" : ", " + signals + " signals handled");
        }
    }

    private static long token(int i) {
        return (i + 1L) << 4;
    }

    /** One worker until the deadline; returns its operation count. What it holds at the end goes to {@code found}. */
    private static long work(RseqFrontEnd frontEnd, long[] held, int count, long seed, long deadline,
                             ConcurrentLinkedQueue<long[]> found, boolean missedInvalidation) {
        SplittableRandom random = new SplittableRandom(seed);
        long[] batch = new long[16];
        long ops = 0;
        long cached = 0;
        while ((ops & 255) != 0 || System.nanoTime() < deadline) {
            ops++;
            int sc = 1 + random.nextInt(CLASSES);
            int op = random.nextInt(100);
            if (missedInvalidation) {
                cached = missInvalidation(frontEnd, cached);
            }
            if (op < 25) {
                if (count > 0 && frontEnd.push(sc, held[count - 1])) {
                    count--;
                }
            } else if (op < 50) {
                long token = frontEnd.pop(sc);
                if (token != 0) {
                    held[count++] = token;
                }
            } else if (op < 62) {
                int k = Math.min(count, 1 + random.nextInt(batch.length));
                System.arraycopy(held, count - k, batch, 0, k);
                int pushed = frontEnd.pushBatch(frontEnd.currentSlab(), sc, batch, 0, k);
                // batch[0..pushed) went in: keep batch[pushed..k) in hand.
                count -= k;
                System.arraycopy(batch, pushed, held, count, k - pushed);
                count += k - pushed;
            } else if (op < 74) {
                int n = frontEnd.popBatch(frontEnd.currentSlab(), sc, batch, 0, 1 + random.nextInt(batch.length));
                System.arraycopy(batch, 0, held, count, n);
                count += n;
            } else if (op < 90) {
                frontEnd.grow(frontEnd.currentSlab(), sc, 1 + random.nextInt(8));
            } else {
                Thread.yield(); // invites preemption and migration (and a carrier change for virtual threads)
            }
        }
        found.add(java.util.Arrays.copyOf(held, count));
        return ops;
    }

    /**
     * The 6.19 simulation: remembers the newest tagged slab word and, when the kernel has cleared it
     * without a CPU change (a preemption, a signal, the drainer's fence), puts it back.
     */
    private static long missInvalidation(RseqFrontEnd frontEnd, long cached) {
        long word = SelfCheckHooks.slabWord();
        if ((word & SelfCheckHooks.OVERLAY_TAG) != 0) {
            return word;
        }
        if (cached != 0) {
            SelfCheckHooks.restoreSlabWord(frontEnd, cached);
        }
        return cached;
    }

    /** Remote work racing the workers: stop a random slab, drain it, give it new capacities, start it. */
    private static void drain(RseqFrontEnd frontEnd, SlabLayout layout, int slabs, long deadline,
                              ConcurrentLinkedQueue<long[]> found, AtomicReference<Throwable> failure) {
        SplittableRandom random = new SplittableRandom(-1);
        long[] buffer = new long[SlabLayout.maxCapacity(1)];
        try {
            while (System.nanoTime() < deadline) {
                int slab = random.nextInt(slabs);
                SlabLock lock = frontEnd.stop(slab);
                try {
                    for (int sc = 1; sc <= CLASSES; sc++) {
                        if (random.nextBoolean()) {
                            int n = layout.drain(slab, sc, buffer);
                            found.add(java.util.Arrays.copyOf(buffer, n));
                            layout.grow(slab, sc, random.nextInt(64));
                        } else {
                            layout.shrinkUnused(slab, sc, random.nextInt(16));
                        }
                    }
                } finally {
                    frontEnd.start(slab);
                    lock.held = 0;
                }
                LockSupport.parkNanos(100_000);
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static void verify(ConcurrentLinkedQueue<long[]> found, int tokens) {
        int[] seen = new int[tokens];
        long total = 0;
        for (long[] part : found) {
            for (long token : part) {
                int i = (int) (token >>> 4) - 1;
                if (token == 0 || (token & 15) != 0 || i < 0 || i >= tokens) {
                    throw new AssertionError("garbage token 0x" + Long.toHexString(token));
                }
                if (++seen[i] > 1) {
                    throw new AssertionError("token " + i + " seen twice");
                }
                total++;
            }
        }
        if (total != tokens) {
            for (int i = 0; i < tokens; i++) {
                if (seen[i] == 0) {
                    throw new AssertionError("token " + i + " lost (" + total + " of " + tokens + " found)");
                }
            }
        }
    }

    /** For forked JVMs: prints the front end's registration and the result; exits 1 on failure. */
    /**
     * The 6.19 simulation's run: rounds of {@code options.seconds()} until the token check fails, at
     * most {@code maxSeconds}. Returns the round and the check's message; throws if nothing was caught.
     */
    static String runUntilCaught(Options options, int maxSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + maxSeconds * 1_000_000_000L;
        for (int round = 1; ; round++) {
            String passed;
            try {
                passed = run(options);
            } catch (AssertionError e) {
                return "round " + round + ": " + e.getMessage();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no token lost or duplicated in " + round + " rounds: " + passed);
            }
        }
    }

    /**
     * For forked JVMs: prints the front end's registration and the result; exits 1 on failure. With
     * {@code missedInvalidation}, success is the token check catching the simulated kernel bug.
     */
    public static void main(String[] args) throws Exception {
        try {
            Options options = Options.parse(args);
            System.out.println("registration: " + (RseqLibrary.glibcOwnsRegistration() ? "glibc" : "own " + RseqLibrary.OWN_LENGTH));
            if (options.missedInvalidation()) {
                System.out.println("MISSED INVALIDATION CAUGHT in " + runUntilCaught(options, MAX_CATCH_SECONDS));
            } else {
                System.out.println("TORTURE OK: " + run(options));
            }
        } catch (Throwable e) {
            e.printStackTrace(System.out);
            System.exit(1);
        }
    }

    /** The test helper library's thread-directed SIGALRM storm. */
    static final class SignalStorm {
        static SignalStorm start(int intervalMicros) {
            try {
                int rc = (int) RseqTestLibrary.STORM_START.invokeExact(intervalMicros);
                if (rc != 0) {
                    throw new IllegalStateException("signal storm did not start: " + rc);
                }
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
            return new SignalStorm();
        }

        void enlist() {
            try {
                RseqTestLibrary.STORM_ENLIST.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        long stop() {
            try {
                return (long) RseqTestLibrary.STORM_STOP.invokeExact();
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    private TokenTorture() {
    }
}
