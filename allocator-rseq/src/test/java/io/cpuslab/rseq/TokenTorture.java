package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.NativePageMap;
import io.cpuslab.core.OsMemory;
import io.cpuslab.core.SizeClasses;
import io.cpuslab.core.SlabLayout;
import io.cpuslab.core.TestPageMaps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The rseq torture: {@code 8 × CPUs} threads move unique tokens through the rseq front end with every
 * section there is: push, pop, push-batch, pop-batch and grow by class, and the one-call fast path's
 * malloc (by size), free (by address, through the native page map) and their bulk forms, while a
 * drainer thread stops random slabs, drains them and gives them random new capacities. Tokens are
 * block addresses of spans laid out in a native page map (never dereferenced), so each has a class;
 * a token found in another class's stack is a misfiled block. At the end every token must be found
 * exactly once: in a worker's hands, in what the drainer took, or in the slabs. Runs in-process from
 * the tests and as a main class in forked JVMs ({@code taskset -c 0},
 * {@code GLIBC_TUNABLES=glibc.pthread.rseq=0}).
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

    /** Summary of a passed run; throws {@link AssertionError} naming the first lost, duplicated or misfiled token. */
    static String run(Options options) throws InterruptedException {
        if (RseqLibrary.UNAVAILABLE != null) {
            throw new AssertionError("rseq unavailable: " + RseqLibrary.UNAVAILABLE);
        }
        int threads = 8 * Runtime.getRuntime().availableProcessors();
        Tokens tokens = Tokens.create(threads * TOKENS_PER_THREAD);
        try (Arena arena = Arena.ofShared()) {
            SlabLayout layout = TestSlabs.onEveryCpu(arena);
            int slabs = layout.slabCount();
            RseqFrontEnd frontEnd = options.mode() == CpuSlab.RseqMode.OVERLAY
                    ? new OverlayFrontEnd(layout, options.index(), "torture", tokens.classes)
                    : new RseqFrontEnd(layout, options.index(), "torture", tokens.classes);
            long deadline = System.nanoTime() + options.seconds() * 1_000_000_000L;
            ConcurrentLinkedQueue<long[]> found = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong operations = new AtomicLong();
            SelfCheckHooks.injectLoops(INJECT_LOOPS);
            SignalStorm storm = options.signalStorm() ? SignalStorm.start(100) : null;
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Held mine = new Held(tokens, tokens.all.length);
                for (int i = t; i < tokens.all.length; i += threads) {
                    mine.add(tokens.all[i]);
                }
                long seed = t;
                Runnable work = () -> {
                    try {
                        if (storm != null && !options.virtualThreads()) {
                            storm.enlist();
                        }
                        operations.addAndGet(work(frontEnd, mine, seed, deadline, found, options.missedInvalidation()));
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                workers.add(options.virtualThreads() ? Thread.ofVirtual().start(work) : Thread.ofPlatform().start(work));
            }
            Thread drainer = Thread.ofPlatform().start(() -> drain(frontEnd, layout, slabs, tokens, deadline, found, failure));
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
                    found.add(tokens.ofClass(sc, Arrays.copyOf(buffer, layout.drain(slab, sc, buffer)), "slab " + slab));
                }
            }
            frontEnd.close();
            tokens.verify(found);
            return String.format("%d tokens exactly once and in their classes after %,d operations by %d %s threads on %d slabs"
                            + " (%s mode, %s index, %d loops injected before each commit)%s",
                    tokens.all.length, operations.get(), threads, options.virtualThreads() ? "virtual" : "platform", slabs,
                    options.mode(), options.index(), INJECT_LOOPS, storm == null ? "" : ", " + signals + " signals handled");
        } finally {
            tokens.close();
        }
    }

    /**
     * One worker until the deadline; returns its operation count. What it holds at the end goes to
     * {@code found}. Every token taken from a class is checked to be of that class.
     */
    private static long work(RseqFrontEnd frontEnd, Held held, long seed, long deadline,
                             ConcurrentLinkedQueue<long[]> found, boolean missedInvalidation) throws Throwable {
        SplittableRandom random = new SplittableRandom(seed);
        MethodHandle malloc = entry(RseqLibrary.MALLOC, frontEnd.nativeFlavour());
        MethodHandle free = entry(RseqLibrary.FREE, frontEnd.nativeFlavour());
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
            if (op < 10) {
                if (held.count(sc) > 0 && frontEnd.push(sc, held.peek(sc))) {
                    held.take(sc);
                }
            } else if (op < 20) {
                held.put(sc, frontEnd.pop(sc), "pop");
            } else if (op < 32) {
                if (held.count(sc) > 0 && (int) free.invokeExact(frontEnd.desc, held.peek(sc)) != 0) {
                    held.take(sc);
                }
            } else if (op < 44) {
                held.put(sc, (long) malloc.invokeExact(frontEnd.desc, (long) SizeClasses.size(sc)), "malloc");
            } else if (op < 52) {
                int k = held.takeMixed(batch, 1 + random.nextInt(batch.length));
                int freed = (int) RseqLibrary.FREE_BULK.invokeExact(frontEnd.desc, MemorySegment.ofArray(batch), k);
                held.giveBack(batch, freed, k); // batch[0..freed) went in: keep the rest in hand
            } else if (op < 60) {
                int n = (int) RseqLibrary.MALLOC_BULK.invokeExact(frontEnd.desc, (long) SizeClasses.size(sc),
                        MemorySegment.ofArray(batch), 1 + random.nextInt(batch.length));
                held.putAll(sc, batch, n, "mallocBulk");
            } else if (op < 68) {
                int k = held.takeTop(sc, batch, 1 + random.nextInt(batch.length));
                int pushed = frontEnd.pushBatch(frontEnd.currentSlab(), sc, batch, 0, k);
                held.giveBack(batch, pushed, k);
            } else if (op < 76) {
                int n = frontEnd.popBatch(frontEnd.currentSlab(), sc, batch, 0, 1 + random.nextInt(batch.length));
                held.putAll(sc, batch, n, "popBatch");
            } else if (op < 92) {
                frontEnd.grow(frontEnd.currentSlab(), sc, 1 + random.nextInt(8));
            } else {
                Thread.yield(); // invites preemption and migration (and a carrier change for virtual threads)
            }
        }
        found.add(held.all());
        return ops;
    }

    /** The fast path's entry for the front end's flavour, as the allocator picks it. */
    private static MethodHandle entry(NativeFastPath.Flavoured entries, NativeFastPath.Flavour flavour) {
        return switch (flavour) {
            case CPU_ID -> entries.cpuId();
            case MM_CID -> entries.mmCid();
            case OVERLAY -> entries.overlay();
        };
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
    private static void drain(RseqFrontEnd frontEnd, SlabLayout layout, int slabs, Tokens tokens, long deadline,
                              ConcurrentLinkedQueue<long[]> found, AtomicReference<Throwable> failure) {
        SplittableRandom random = new SplittableRandom(-1);
        long[] buffer = new long[SlabLayout.maxCapacity(1)];
        try {
            while (System.nanoTime() < deadline) {
                int slab = random.nextInt(slabs);
                frontEnd.whileStopped(slab, (stopped, s, unusedClass, unusedArg) -> {
                    for (int sc = 1; sc <= CLASSES; sc++) {
                        if (random.nextBoolean()) {
                            int n = stopped.drain(s, sc, buffer);
                            found.add(tokens.ofClass(sc, Arrays.copyOf(buffer, n), "drained slab " + s));
                            stopped.grow(s, sc, random.nextInt(64));
                        } else {
                            stopped.shrinkUnused(s, sc, random.nextInt(16));
                        }
                    }
                    return 0;
                }, 0, 0);
                LockSupport.parkNanos(100_000);
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    /**
     * The tokens: blocks of spans of the first {@link #CLASSES} size classes, in memory mapped for the run
     * and never touched, with a native page map that knows the spans (as the page heap's would).
     */
    static final class Tokens implements AutoCloseable {
        private final OsMemory os = OsMemory.forThisPlatform();
        final long[] all;
        final NativePageMap classes;
        private final long region;
        private final long regionBytes;

        private Tokens(long[] all, NativePageMap classes, long region, long regionBytes) {
            this.all = all;
            this.classes = classes;
            this.region = region;
            this.regionBytes = regionBytes;
        }

        /** At least {@code count} tokens, spread evenly over the classes; sorted. */
        static Tokens create(int count) {
            OsMemory os = OsMemory.forThisPlatform();
            int perClass = (count + CLASSES - 1) / CLASSES;
            long pages = 0;
            for (int sc = 1; sc <= CLASSES; sc++) {
                pages += spans(sc, perClass) * SizeClasses.pages(sc);
            }
            long bytes = pages << SizeClasses.PAGE_SHIFT;
            long region = os.map(bytes, SizeClasses.PAGE_SIZE);
            NativePageMap classes = TestPageMaps.create(os, region, pages);
            long[] all = new long[perClass * CLASSES];
            int n = 0;
            long page = region >>> SizeClasses.PAGE_SHIFT;
            for (int sc = 1; sc <= CLASSES; sc++) {
                for (int span = 0, left = perClass; left > 0; span++) {
                    TestPageMaps.span(classes, page, sc);
                    for (int i = 0; i < SizeClasses.objectsPerSpan(sc) && left > 0; i++, left--) {
                        all[n++] = (page << SizeClasses.PAGE_SHIFT) + (long) i * SizeClasses.size(sc);
                    }
                    page += SizeClasses.pages(sc);
                }
            }
            Arrays.sort(all);
            return new Tokens(all, classes, region, bytes);
        }

        private static long spans(int sc, int tokens) {
            return (tokens + SizeClasses.objectsPerSpan(sc) - 1) / SizeClasses.objectsPerSpan(sc);
        }

        /** The class of a token, from where it lies (spans of one class follow each other). */
        int classOf(long token) {
            int index = Arrays.binarySearch(all, token);
            if (index < 0) {
                throw new AssertionError("garbage token 0x" + Long.toHexString(token));
            }
            return 1 + index / (all.length / CLASSES);
        }

        /** {@code tokens}, after checking that each is of class {@code sc} (where: for the message). */
        long[] ofClass(int sc, long[] tokens, String where) {
            for (long token : tokens) {
                if (classOf(token) != sc) {
                    throw new AssertionError("token 0x" + Long.toHexString(token) + " of class " + classOf(token)
                            + " found in class " + sc + " (" + where + ")");
                }
            }
            return tokens;
        }

        void verify(ConcurrentLinkedQueue<long[]> found) {
            int[] seen = new int[all.length];
            long total = 0;
            for (long[] part : found) {
                for (long token : part) {
                    classOf(token);
                    int i = Arrays.binarySearch(all, token);
                    if (++seen[i] > 1) {
                        throw new AssertionError("token 0x" + Long.toHexString(token) + " seen twice");
                    }
                    total++;
                }
            }
            if (total != all.length) {
                for (int i = 0; i < all.length; i++) {
                    if (seen[i] == 0) {
                        throw new AssertionError("token 0x" + Long.toHexString(all[i]) + " lost (" + total + " of "
                                + all.length + " found)");
                    }
                }
            }
        }

        @Override
        public void close() {
            TestPageMaps.close(classes);
            os.unmap(region, regionBytes);
        }
    }

    /** A worker's tokens, one stack per class; every token put in is checked to be of its stack's class. */
    static final class Held {
        private final Tokens tokens;
        private final long[][] stacks = new long[CLASSES + 1][];
        private final int[] counts = new int[CLASSES + 1];

        Held(Tokens tokens, int capacity) {
            this.tokens = tokens;
            for (int sc = 1; sc <= CLASSES; sc++) {
                stacks[sc] = new long[capacity];
            }
        }

        void add(long token) {
            put(tokens.classOf(token), token, "start");
        }

        int count(int sc) {
            return counts[sc];
        }

        long peek(int sc) {
            return stacks[sc][counts[sc] - 1];
        }

        void take(int sc) {
            counts[sc]--;
        }

        /** Keeps {@code token} (0: nothing came) in class {@code sc}'s stack; {@code how} names the call. */
        void put(int sc, long token, String how) {
            if (token != 0) {
                if (tokens.classOf(token) != sc) {
                    throw new AssertionError(how + " of class " + sc + " gave token 0x" + Long.toHexString(token)
                            + " of class " + tokens.classOf(token));
                }
                stacks[sc][counts[sc]++] = token;
            }
        }

        void putAll(int sc, long[] batch, int n, String how) {
            for (int i = 0; i < n; i++) {
                put(sc, batch[i], how);
            }
        }

        /** Up to {@code max} tokens off the top of class {@code sc} into {@code batch}; returns how many. */
        int takeTop(int sc, long[] batch, int max) {
            int k = Math.min(counts[sc], max);
            counts[sc] -= k;
            System.arraycopy(stacks[sc], counts[sc], batch, 0, k);
            return k;
        }

        /** Up to {@code max} tokens off the tops of the classes in turn (mixed classes, short runs); returns how many. */
        int takeMixed(long[] batch, int max) {
            int k = 0;
            for (int round = 0; k < max && round < 2; round++) {
                for (int sc = 1; sc <= CLASSES && k < max; sc++) {
                    for (int run = 0; run < 2 && k < max && counts[sc] > 0; run++) {
                        batch[k++] = stacks[sc][--counts[sc]];
                    }
                }
            }
            return k;
        }

        /** The native call took {@code batch[0..used)}: the rest goes back into hand. */
        void giveBack(long[] batch, int used, int k) {
            for (int i = used; i < k; i++) {
                add(batch[i]);
            }
        }

        long[] all() {
            int n = 0;
            for (int sc = 1; sc <= CLASSES; sc++) {
                n += counts[sc];
            }
            long[] all = new long[n];
            n = 0;
            for (int sc = 1; sc <= CLASSES; sc++) {
                System.arraycopy(stacks[sc], 0, all, n, counts[sc]);
                n += counts[sc];
            }
            return all;
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
