package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.MemoryCorruptionException;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every front end must satisfy through the public API: alignment, sizes, contents, bad input as
 * DESIGN.md's table says, stats that add up, release and close. Each front-end module runs it with a
 * subclass that names its front end.
 */
public abstract class AllocatorContractTest {
    private final List<OffHeapAllocator> created = new ArrayList<>();

    /** The front end under test. */
    protected abstract CpuSlab.FrontEnd frontEnd();

    /**
     * The hugepage setting of every allocator the suites make, here and in forked JVMs: AUTO, or what
     * {@code -Dcpuslab.hugePages} says, so one run of the suites can cover {@code OFF}.
     */
    public static final CpuSlab.HugePages HUGE_PAGES =
            CpuSlab.HugePages.valueOf(System.getProperty("cpuslab.hugePages", "AUTO").trim().toUpperCase(Locale.ROOT));

    protected AllocatorConfig config() {
        return AllocatorConfig.defaults(frontEnd()).withHugePages(HUGE_PAGES);
    }

    /** The system properties that make a forked JVM's allocators use this suite's front end and mode. */
    protected List<String> forkedSelection() {
        return List.of("-Dcpuslab.frontEnd=" + frontEnd());
    }

    /** {@code options} followed by {@link #forkedSelection()}: a forked JVM's command-line options. */
    private List<String> forkedJvm(String... options) {
        List<String> all = new ArrayList<>(List.of(options));
        all.addAll(forkedSelection());
        all.add("-Dcpuslab.hugePages=" + HUGE_PAGES);
        return all;
    }

    protected OffHeapAllocator allocator(AllocatorConfig config) {
        OffHeapAllocator allocator = CpuSlabAllocator.create(config);
        created.add(allocator);
        return allocator;
    }

    protected OffHeapAllocator allocator() {
        return allocator(config());
    }

    @AfterEach
    void closeAll() {
        created.forEach(OffHeapAllocator::close);
    }

    private static MemorySegment at(long address, long size) {
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    // ---- sizes, alignment, contents ----

    @Test
    void blocksAreAlignedDistinctAndAtLeastAsBigAsAsked() {
        OffHeapAllocator a = allocator();
        Set<Long> seen = new HashSet<>();
        for (long size : new long[] {1, 8, 15, 16, 17, 100, 1024, 1025, 4096, 40_000, 262_144, 262_145, 3_000_000}) {
            for (int i = 0; i < 20; i++) {
                long p = a.malloc(size);
                assertTrue(seen.add(p), "address handed out twice");
                assertTrue(a.usableSize(p) >= size);
                if (size >= 16) {
                    assertEquals(0, p % 16, "16-byte alignment for size " + size);
                }
                at(p, size).fill((byte) 0x33);
            }
        }
    }

    @Test
    void sizeZeroGivesUniqueMinimalBlocks() {
        OffHeapAllocator a = allocator();
        long p = a.malloc(0), q = a.malloc(0);
        assertNotEquals(0, p);
        assertNotEquals(p, q);
        assertEquals(8, a.usableSize(p));
        a.free(p);
        a.free(q);
    }

    @Test
    void alignedBlocksHonourEveryPowerOfTwo() {
        OffHeapAllocator a = allocator();
        for (long alignment = 1; alignment <= 1 << 21; alignment <<= 1) {
            for (long size : new long[] {0, 1, 100, 5000, 300_000}) {
                long p = a.mallocAligned(size, alignment);
                assertEquals(0, p % alignment, "alignment " + alignment + " size " + size);
                at(p, Math.max(1, size)).fill((byte) 1);
                a.free(p);
            }
        }
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void zeroedBlocksAreZeroEvenWhenReused() {
        OffHeapAllocator a = allocator();
        for (long size : new long[] {64, 3000, 500_000}) {
            long dirty = a.malloc(size);
            at(dirty, size).fill((byte) 0xFF);
            a.free(dirty);
            long p = a.mallocZeroed(size);
            for (long i = 0; i < size; i += 8) {
                assertEquals(0, at(p, size).get(ValueLayout.JAVA_LONG, i));
            }
            a.free(p);
        }
    }

    @Test
    void reallocKeepsContentsAndStaysInPlaceWithinTheClass() {
        OffHeapAllocator a = allocator();
        long p = a.malloc(100); // 112-byte class
        for (int i = 0; i < 100; i++) {
            at(p, 100).set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        assertEquals(p, a.realloc(p, 110), "same class: in place");
        long q = a.realloc(p, 100_000);
        for (int i = 0; i < 100; i++) {
            assertEquals((byte) i, at(q, 100).get(ValueLayout.JAVA_BYTE, i));
        }
        long r = a.realloc(q, 10);
        for (int i = 0; i < 10; i++) {
            assertEquals((byte) i, at(r, 10).get(ValueLayout.JAVA_BYTE, i));
        }
        a.free(r);
        long fresh = a.realloc(0, 50);
        assertTrue(a.usableSize(fresh) >= 50);
        a.free(fresh);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void sizedFreeWithTheSizeLastAskedIsRightAfterAnInPlaceRealloc() {
        OffHeapAllocator a = allocator();
        long p = a.malloc(100);
        long q = a.realloc(p, 60); // another class would serve 60 bytes: must move, or freeSized(q, 60) misfiles it
        a.freeSized(q, 60);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            long r = a.malloc(60);
            assertTrue(seen.add(r), "no block twice");
            assertEquals(64, a.usableSize(r), "every 60-byte block is of the 64-byte class");
        }
        seen.forEach(a::free);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void checkedModeRejectsASizedFreeThatWouldMisfileTheBlock() {
        OffHeapAllocator a = allocator(config().withChecked(true));
        long aligned = a.mallocAligned(100, 2048); // a 2 KiB block: the size 100 names another class
        assertMessage(IllegalArgumentException.class, "mallocAligned", () -> a.freeSized(aligned, 100));
        long p = a.malloc(1000);
        assertMessage(IllegalArgumentException.class, "does not fit", () -> a.freeSized(p, 10));
        a.freeSized(p, a.usableSize(p));
        a.free(aligned);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void segmentsAndArenasComeFromTheAllocator() throws Exception {
        OffHeapAllocator a = allocator();
        MemorySegment s = a.allocate(100, 64);
        assertEquals(100, s.byteSize());
        assertEquals(0, s.address() % 64);
        a.free(s);
        assertThrows(IllegalArgumentException.class, () -> a.free(MemorySegment.ofArray(new byte[8])));

        MemorySegment kept;
        try (Arena arena = a.newArena()) {
            kept = arena.allocate(ValueLayout.JAVA_LONG, 1000);
            assertEquals(0, kept.get(ValueLayout.JAVA_LONG, 8 * 999), "arena segments are zeroed");
            kept.set(ValueLayout.JAVA_LONG, 0, 42);
            MemorySegment other = arena.allocate(10);
            CompletableFuture<Throwable> fromOtherThread = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    arena.allocate(10);
                    fromOtherThread.complete(null);
                } catch (Throwable e) {
                    fromOtherThread.complete(e);
                }
            });
            assertTrue(fromOtherThread.get() instanceof WrongThreadException, "confined: " + fromOtherThread.get());
            assertTrue(a.stats().applicationBytes() >= 8000 + other.byteSize());
        }
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_LONG, 0), "arena closed");
        assertEquals(0, a.stats().applicationBytes(), "closing the arena freed everything");

        try (Arena shared = a.newSharedArena()) {
            CompletableFuture.runAsync(() -> shared.allocate(1000).fill((byte) 1)).join();
            shared.allocate(1 << 20);
        }
        assertEquals(0, a.stats().applicationBytes());
    }

    // ---- bad input and faults (DESIGN.md table) ----

    @Test
    void negativeSizesAndBadAlignmentsNameTheValue() {
        OffHeapAllocator a = allocator();
        assertMessage(IllegalArgumentException.class, "-5", () -> a.malloc(-5));
        assertMessage(IllegalArgumentException.class, "-1", () -> a.mallocZeroed(-1));
        assertMessage(IllegalArgumentException.class, "24", () -> a.mallocAligned(64, 24));
        assertMessage(IllegalArgumentException.class, "0", () -> a.mallocAligned(64, 0));
        assertMessage(IllegalArgumentException.class, "-7", () -> a.allocate(-7, 8));
        long p = a.malloc(10);
        assertMessage(IllegalArgumentException.class, "-3", () -> a.realloc(p, -3));
        assertEquals(16, a.usableSize(p), "block untouched by the failed realloc");
    }

    @Test
    void hugeRequestsThrowOutOfMemoryAndTheAllocatorStaysUsable() {
        OffHeapAllocator a = allocator();
        assertMessage(OutOfMemoryError.class, String.valueOf(Long.MAX_VALUE), () -> a.malloc(Long.MAX_VALUE));
        long p = a.malloc(64);
        a.free(p);
    }

    @Test
    void memoryLimitGivesOutOfMemoryWithSizeAndLimitAndTheAllocatorStaysUsable() {
        OffHeapAllocator a = allocator(config().withMemoryLimit(64L << 20));
        long big = a.malloc(40L << 20);
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> a.malloc(30L << 20));
        assertTrue(e.getMessage().contains("30 MiB") && e.getMessage().contains("memory limit 64 MiB"), e.getMessage());
        long small = a.malloc(1000);
        a.free(big);
        long again = a.malloc(30L << 20);
        a.free(again);
        a.free(small);
        assertEquals(0, a.stats().applicationBytes());
    }

    /**
     * Small blocks past the limit: the page heap's refusal comes up through the caches as a value, and only
     * malloc throws, naming the size asked and the limit; every block handed out before stays good.
     */
    @Test
    void aSmallBlockPastTheMemoryLimitGivesOutOfMemoryWithTheSizeAndTheLimit() {
        OffHeapAllocator a = allocator(config().withMemoryLimit(1L << 20));
        List<Long> blocks = new ArrayList<>();
        OutOfMemoryError refused = null;
        while (refused == null && blocks.size() < 10_000) {
            try {
                long p = a.malloc(1000);
                at(p, 1000).fill((byte) blocks.size());
                blocks.add(p);
            } catch (OutOfMemoryError e) {
                refused = e;
            }
        }
        assertTrue(refused != null, blocks.size() + " blocks of 1000 bytes under a 1 MiB limit");
        assertTrue(refused.getMessage().contains("cannot allocate 1000 bytes")
                && refused.getMessage().contains("memory limit 1 MiB"), refused.getMessage());
        for (int i = 0; i < blocks.size(); i++) {
            assertEquals((byte) i, at(blocks.get(i), 1000).get(ValueLayout.JAVA_BYTE, 999));
        }
        blocks.forEach(a::free);
        assertEquals(0, a.stats().applicationBytes());
        a.free(a.malloc(1000));
    }

    @Test
    void anAlignmentNoAddressSpaceHoldsGivesOutOfMemorySayingSo() {
        OffHeapAllocator a = allocator();
        assertMessage(OutOfMemoryError.class, "cpuslab: cannot allocate 64 bytes: the page heap refused 1 page (8 KiB):"
                + " larger than the address space with an alignment of 1 PiB", () -> a.mallocAligned(64, 1L << 50));
        a.free(a.mallocAligned(64, 1L << 20));
    }

    @Test
    void failingOsMemoryGivesOutOfMemoryAndWorkResumesAfterwards() {
        FaultyMemory os = new FaultyMemory();
        OffHeapAllocator a = allocator(config().withOsMemory(os));
        long first = a.malloc(100);
        os.failing(true);
        assertThrows(OutOfMemoryError.class, () -> a.malloc(100L << 20));
        List<Long> small = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            small.add(a.malloc(100)); // the mapped region still has room: small blocks keep coming
        }
        os.failing(false);
        long big = a.malloc(100L << 20);
        at(big, 100L << 20).set(ValueLayout.JAVA_LONG, (100L << 20) - 8, 1);
        a.free(big);
        small.forEach(a::free);
        a.free(first);
        assertEquals(0, a.stats().applicationBytes());
    }

    /**
     * JVM options that keep a forked JVM's own address space small enough for a tight {@code ulimit -v}.
     * By default a JDK 25 JVM on this 24 GiB machine reserves about 8.5 GiB of address space (a quarter
     * of RAM for the heap, 1 GiB of compressed class space, 240 MiB of code cache); with these options
     * it is about 1 GiB, most of it thread stacks, metaspace and the CDS archive.
     */
    private static final List<String> SMALL_JVM = List.of("-Xmx32m", "-Xms8m", "-Xss512k", "-XX:ReservedCodeCacheSize=16m",
            "-XX:CompressedClassSpaceSize=16m", "-XX:MaxMetaspaceSize=48m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1", "--enable-native-access=ALL-UNNAMED");
    /** Address space the child may map beyond what it has once an allocator works: a few 64 MiB regions. */
    private static final long ULIMIT_HEADROOM = 256L << 20;

    /**
     * The OS refusing memory for real: a forked JVM measures its own virtual size with an allocator
     * working, then a second one runs under {@code ulimit -v} (that size + {@link #ULIMIT_HEADROOM}) and
     * allocates until {@code mmap} fails; it must get an {@link OutOfMemoryError} naming mmap, keep
     * serving small blocks, and serve the large ones again after freeing them.
     */
    @Test
    void addressSpaceLimitGivesOutOfMemoryAndTheAllocatorRecoversInAForkedJvm() throws Exception {
        if (!MmapMemory.isSupported() || !ProcessMemory.available()) {
            System.out.println("ulimit -v check skipped: needs Linux mmap and /proc");
            return;
        }
        List<String> options = forkedJvm(SMALL_JVM.toArray(String[]::new));
        // glibc reserves 64 MiB of address space per malloc arena: keep that out of a tight ulimit -v.
        Map<String, String> env = Map.of("MALLOC_ARENA_MAX", "2");
        ForkedJvm.Result measured = ForkedJvm.run(List.of(), env, options, AddressSpaceLimitMain.class, "measure");
        assertEquals(0, measured.exitCode(), measured.output());
        long vmSize = measured.output().lines().filter(l -> l.startsWith("vmsize ")).mapToLong(l -> Long.parseLong(l.substring(7)))
                .findFirst().orElseThrow();
        long limitKiB = (vmSize + ULIMIT_HEADROOM) >> 10;
        ForkedJvm.Result run = ForkedJvm.run(ForkedJvm.underShell("ulimit -v " + limitKiB), env, options,
                AddressSpaceLimitMain.class, "exhaust");
        System.out.println("ulimit -v " + limitKiB + " (JVM " + Bytes.format(vmSize) + " + " + Bytes.format(ULIMIT_HEADROOM)
                + "), " + frontEnd() + ": " + run.verdict());
        assertEquals(0, run.exitCode(), run.output());
        assertTrue(run.output().contains("OK ") && run.output().contains("errno 12"), run.output());
    }

    @Test
    void foreignAndInteriorFreesAreRejectedAndChangeNothing() {
        OffHeapAllocator a = allocator();
        long small = a.malloc(100);
        long large = a.malloc(1 << 20);
        AllocatorStats before = a.stats();
        try (Arena arena = Arena.ofConfined()) {
            long foreign = arena.allocate(64).address();
            assertMessage(IllegalArgumentException.class, "not a block this allocator handed out", () -> a.free(foreign));
            assertMessage(IllegalArgumentException.class, "not a block", () -> a.usableSize(foreign));
            assertMessage(IllegalArgumentException.class, "not a block", () -> a.realloc(foreign, 10));
        }
        assertMessage(IllegalArgumentException.class, "interior", () -> a.free(small + 16));
        assertMessage(IllegalArgumentException.class, "interior", () -> a.free(large + 8192));
        assertMessage(IllegalArgumentException.class, "interior", () -> a.free(small + 1));
        assertEquals(before.applicationBytes(), a.stats().applicationBytes());
        a.free(small);
        a.free(large);
    }

    @Test
    void doubleFreeOfALargeBlockIsAlwaysRejected() {
        OffHeapAllocator a = allocator();
        long large = a.malloc(1 << 20);
        a.free(large);
        assertMessage(IllegalArgumentException.class, "free of 0x", () -> a.free(large));
    }

    @Test
    void checkedModeRejectsEveryDoubleFreeAndWrongSize() {
        OffHeapAllocator a = allocator(config().withChecked(true));
        long p = a.malloc(48);
        long keep = a.malloc(48); // keeps the span alive, so only the live bit can tell
        a.free(p);
        assertMessage(IllegalArgumentException.class, "already freed", () -> a.free(p));
        assertMessage(IllegalArgumentException.class, "already freed", () -> a.freeSized(p, 48));
        assertMessage(IllegalArgumentException.class, "does not fit", () -> a.freeSized(keep, 500));
        a.freeSized(keep, 48);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void checkedModeCatchesAnOverrunPastTheUsableSizeAndTheFreeChangesNothing() {
        OffHeapAllocator a = allocator(config().withChecked(true));
        for (long size : new long[] {0, 24, 100, 4000, 300_000}) {
            long p = a.malloc(size);
            long usable = a.usableSize(p);
            assertEquals(size, usable, "checked mode: usable is exactly the size asked");
            MemorySegment tail = at(p + usable, 8);
            long saved = tail.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
            tail.set(ValueLayout.JAVA_BYTE, 0, (byte) (tail.get(ValueLayout.JAVA_BYTE, 0) + 1)); // one byte too far
            long inUse = a.stats().applicationBytes();
            MemoryCorruptionException e = assertThrows(MemoryCorruptionException.class, () -> a.free(p));
            assertEquals(p, e.address());
            assertEquals(usable, e.offset(), "the first byte past the usable size");
            assertTrue(e.getMessage().contains("0x" + Long.toHexString(p)) && e.getMessage().contains("size class " + e.sizeClass())
                    && e.getMessage().contains("overrun"), e.getMessage());
            assertTrue(Arrays.stream(e.getStackTrace())
                    .anyMatch(f -> f.getMethodName().startsWith("lambda$checkedModeCatchesAnOverrun")), "the offending call's stack");
            assertThrows(MemoryCorruptionException.class, () -> a.freeSized(p, size));
            assertThrows(MemoryCorruptionException.class, () -> a.realloc(p, size * 4 + 8));
            assertEquals(inUse, a.stats().applicationBytes(), "the rejected calls changed nothing");
            tail.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, saved); // repaired: the block is still allocated and frees
            a.free(p);
        }
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void checkedModeCatchesAWriteAfterFreeWhenTheBlockIsHandedOutAgain() {
        OffHeapAllocator a = allocator(config().withChecked(true));
        long keep = a.malloc(48);
        long p = a.malloc(48);
        a.free(p);
        at(p, 48).set(ValueLayout.JAVA_BYTE, 20, (byte) 1); // the application writes after free
        MemoryCorruptionException e = null;
        List<Long> taken = new ArrayList<>();
        for (int i = 0; i < 10_000 && e == null; i++) { // LIFO caches hand p out next; search on in case of migration
            try {
                taken.add(a.malloc(48));
            } catch (MemoryCorruptionException found) {
                e = found;
            }
        }
        assertTrue(e != null, "the damaged block was found");
        assertEquals(p, e.address());
        assertEquals(20, e.offset());
        assertTrue(e.getMessage().contains("write after free") && e.getMessage().contains("0x" + Long.toHexString(p)), e.getMessage());
        for (int i = 0; i < 10_000; i++) {
            long q = a.malloc(48);
            assertNotEquals(p, q, "a damaged block is never handed out again");
            taken.add(q);
        }
        taken.forEach(a::free);
        a.free(keep);
        long fresh = a.malloc(48);
        assertEquals(BlockChecks.POISON, at(fresh, 1).get(ValueLayout.JAVA_BYTE, 0), "reused blocks carry the poison until written");
        a.free(fresh);
    }

    @Test
    void uncheckedModeGivesTheWholeBlockAndWritesNothingIntoIt() {
        OffHeapAllocator a = allocator();
        long p = a.malloc(24);
        assertEquals(32, a.usableSize(p));
        at(p, 32).fill((byte) 7);
        a.free(p);
        long q = a.malloc(24);
        assertEquals(p, q, "LIFO: the same block again");
        assertEquals(7, at(q, 32).get(ValueLayout.JAVA_BYTE, 31), "no poison, no canary without checked mode");
        a.free(q);
    }

    /** One row of DESIGN.md's bad-input table: the allocator it needs, the call (set up on it), what it gets. */
    private record BadInput(String row, UnaryOperator<AllocatorConfig> config, Function<OffHeapAllocator, Runnable> call,
                            Class<? extends Throwable> expected, String messagePart) {
    }

    @Test
    void everyRowOfTheBadInputTableGetsItsExceptionAndChangesNothing() {
        FaultyMemory failingOs = new FaultyMemory();
        List<BadInput> table = List.of(
                new BadInput("size < 0", c -> c, a -> () -> a.malloc(-12), IllegalArgumentException.class, "-12"),
                new BadInput("alignment not a power of two", c -> c, a -> () -> a.mallocAligned(64, 48),
                        IllegalArgumentException.class, "48"),
                new BadInput("size beyond the memory limit", c -> c.withMemoryLimit(64L << 20), a -> () -> a.malloc(65L << 20),
                        OutOfMemoryError.class, "memory limit 64 MiB"),
                new BadInput("mmap fails", c -> c.withOsMemory(failingOs), a -> {
                    failingOs.failing(true);
                    return () -> a.malloc(100L << 20);
                }, OutOfMemoryError.class, "errno 12"),
                new BadInput("free of an address never handed out", c -> c, a -> {
                    long foreign = Arena.global().allocate(64).address();
                    return () -> a.free(foreign);
                }, IllegalArgumentException.class, "not a block this allocator handed out"),
                new BadInput("double free (large)", c -> c, a -> {
                    long p = a.malloc(1 << 20);
                    a.free(p);
                    return () -> a.free(p);
                }, IllegalArgumentException.class, "already freed"),
                new BadInput("double free (small, checked mode)", c -> c.withChecked(true), a -> {
                    long p = a.malloc(64);
                    a.malloc(64); // keeps the span in use: only checked mode can tell
                    a.free(p);
                    return () -> a.free(p);
                }, IllegalArgumentException.class, "already freed"),
                new BadInput("free of an interior pointer", c -> c, a -> {
                    long p = a.malloc(1000);
                    return () -> a.free(p + 64);
                }, IllegalArgumentException.class, "interior"),
                new BadInput("overrun past the usable size (checked mode)", c -> c.withChecked(true), a -> {
                    long p = a.malloc(100);
                    at(p, a.usableSize(p) + 1).set(ValueLayout.JAVA_BYTE, a.usableSize(p), (byte) 0x42);
                    return () -> a.free(p);
                }, MemoryCorruptionException.class, "overrun"),
                new BadInput("use after close()", c -> c, a -> {
                    a.close();
                    return () -> a.malloc(64);
                }, IllegalStateException.class, "closed"));
        for (BadInput row : table) {
            OffHeapAllocator a = allocator(row.config().apply(config()));
            Runnable call = row.call().apply(a);
            long before = row.expected() == IllegalStateException.class ? 0 : a.stats().applicationBytes();
            Throwable t = assertThrows(Throwable.class, call::run, row.row());
            assertTrue(row.expected().isInstance(t) && t.getMessage().contains(row.messagePart()),
                    row.row() + ": expected " + row.expected().getSimpleName() + " naming '" + row.messagePart() + "', got " + t);
            if (row.expected() != IllegalStateException.class) {
                failingOs.failing(false);
                assertEquals(before, a.stats().applicationBytes(), row.row() + ": the rejected call changed nothing");
                a.free(a.malloc(100)); // and the allocator keeps working
                a.free(a.malloc(1 << 20));
            }
            a.close(); // one allocator at a time: a front end may allow only one per process (overlay mode)
        }
    }

    @Test
    void fuzzedCallSequencesGetTheirExceptionsAndGoodCallsKeepWorking() {
        long limit = 512L << 20;
        for (boolean checked : new boolean[] {false, true}) {
            OffHeapAllocator a = allocator(config().withChecked(checked).withMemoryLimit(limit));
            try (Arena foreign = Arena.ofConfined()) {
                for (long seed = 1; seed <= 3; seed++) {
                    BadInputFuzz fuzz = new BadInputFuzz(a, limit, checked, seed, foreign);
                    String failure = fuzz.run(20_000);
                    assertNull(failure, "checked=" + checked + " seed=" + seed + ": " + failure);
                    assertTrue(fuzz.badCalls() > 2000 && fuzz.goodCalls() > 2000, fuzz.badCalls() + " bad, " + fuzz.goodCalls() + " good");
                }
            }
            AllocatorStats s = a.stats();
            assertEquals(0, s.applicationBytes(), "checked=" + checked + ": everything freed");
            assertEquals(s.mappedBytes(), s.applicationBytes() + s.cpuCacheBytes() + s.transferCacheBytes()
                    + s.centralCacheBytes() + s.spanOverheadBytes() + s.pageHeapFreeBytes() + s.releasedBytes()
                    + s.metadataBytes(), s.toString());
            a.close(); // one allocator at a time: a front end may allow only one per process (overlay mode)
        }
    }

    /**
     * In checked mode a guarded block just below the small limit can be resized in place to a size the
     * limit calls large; its guard page bounds it, so no canary goes after the new size (it would land in
     * the guard page).
     */
    @Test
    void aCheckedGuardedBlockGrownInPlaceKeepsItsGuardPageAsItsOnlyBound() {
        if (!OsMemory.forThisPlatform().canProtect()) {
            System.out.println("checked guard resize skipped: no mprotect on this platform");
            return;
        }
        OffHeapAllocator a = allocator(config().withChecked(true).withGuardSampleRate(1));
        long size = SizeClasses.MAX_SIZE - BlockChecks.CANARY_BYTES;     // the largest small request in checked mode
        long p = a.malloc(size);
        long usable = a.usableSize(p);
        assertTrue(usable > size && (p + usable) % SizeClasses.PAGE_SIZE == 0, "guarded, with room left: " + usable);
        assertEquals(p, a.realloc(p, usable), "in place, to the guard page");
        assertEquals(usable, a.usableSize(p));
        at(p, usable).fill((byte) 1);
        a.free(p);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void guardSampledBlocksEndRightAtAnInaccessiblePage() {
        if (!OsMemory.forThisPlatform().canProtect() || !ProcessMemory.available()) {
            System.out.println("guard page check skipped: no mprotect or /proc on this platform");
            return;
        }
        OffHeapAllocator a = allocator(config().withGuardSampleRate(1));
        long p = a.malloc(100);
        long usable = a.usableSize(p);
        assertEquals(112, usable, "rounded up to 16 bytes");
        assertEquals(0, (p + usable) % SizeClasses.PAGE_SIZE, "the block ends at a page boundary");
        assertEquals("---p", ProcessMemory.protection(p + usable), "the next page is PROT_NONE");
        assertEquals("rw-p", ProcessMemory.protection(p));
        at(p, usable).fill((byte) 1); // the whole usable size is the caller's
        assertMessage(IllegalArgumentException.class, "interior", () -> a.free(p + 16));
        a.freeSized(p, 100); // sized frees look guarded blocks up
        assertEquals("rw-p", ProcessMemory.protection(p + usable), "the guard page is accessible again after free");

        List<Long> blocks = new ArrayList<>();
        int guarded = 0;
        for (int i = 0; i < GuardedBlocks.MAX_LIVE + 100; i++) {
            long q = a.malloc(100);
            guarded += (q + a.usableSize(q)) % SizeClasses.PAGE_SIZE == 0 ? 1 : 0;
            blocks.add(q);
        }
        assertEquals(GuardedBlocks.MAX_LIVE, guarded, "at most MAX_LIVE guarded blocks at once; the rest are ordinary");
        blocks.forEach(a::free);
        assertEquals(0, a.stats().applicationBytes());
    }

    /**
     * What a user sees when code overruns a guarded block: on JDK 25 a {@link MemorySegment} write into a
     * PROT_NONE page is a SIGSEGV that the JVM does not turn into an exception (it does so only for
     * SIGBUS on truncated mapped files). The JVM dies at once (exit 1 without a core dump, SIGABRT's 134
     * with one) and its hs_err file names
     * SEGV_ACCERR at the guard page's address and the Java frames of the offending write.
     */
    @Test
    void anOverrunIntoAGuardPageStopsTheJvmAtTheFaultingWriteInAForkedJvm() throws Exception {
        if (!OsMemory.forThisPlatform().canProtect()) {
            System.out.println("guard page fault check skipped: no mprotect on this platform");
            return;
        }
        Path dir = Files.createTempDirectory("cpuslab-guard");
        try {
            ForkedJvm.Result r = ForkedJvm.run(List.of(), Map.of(), forkedJvm("-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                    "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + dir + "/hs_err_%p.log"),
                    GuardPageMain.class);
            assertTrue(!r.output().contains("NO FAULT") && r.exitCode() != 0, r.output());
            String guard = r.output().lines().filter(l -> l.startsWith("guard page 0x")).findFirst().orElseThrow().substring(13);
            List<Path> reports;
            try (var files = Files.list(dir)) {
                reports = files.toList();
            }
            assertEquals(1, reports.size(), "one hs_err report: " + r.output());
            String report = Files.readString(reports.getFirst());
            assertTrue(report.contains("SIGSEGV") && report.contains("SEGV_ACCERR"), report);
            assertTrue(report.contains("si_addr: 0x" + "0".repeat(16 - guard.length()) + guard), "fault at the guard page 0x" + guard);
            assertTrue(report.contains("io.cpuslab.core.GuardPageMain.main"), "the offending Java frame is named");
            System.out.println("guard page overrun (" + frontEnd() + "): exit " + r.exitCode() + ", SIGSEGV (SEGV_ACCERR) at 0x"
                    + guard + " in " + report.lines().filter(l -> l.contains("GuardPageMain.main")).findFirst().orElse("?").strip());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    // ---- bulk calls ----

    @Test
    void bulkCallsAllocateDistinctBlocksOfTheSizeAndFreeThemAll() {
        OffHeapAllocator a = allocator();
        for (long size : new long[] {0, 64, 1000, 300_000}) {
            long[] blocks = new long[3000];
            a.mallocBulk(size, blocks, 500, 2000); // more than one native call's worth
            Set<Long> distinct = new HashSet<>();
            for (int i = 500; i < 2500; i++) {
                assertTrue(distinct.add(blocks[i]), "block handed out twice");
                assertTrue(a.usableSize(blocks[i]) >= size);
                at(blocks[i], Math.max(size, 1)).fill((byte) i);
            }
            assertEquals(0, blocks[499]);
            assertEquals(0, blocks[2500]);
            a.freeBulk(blocks, 500, 2000);
            assertEquals(0, a.stats().applicationBytes(), "size " + size);
        }
        a.freeBulk(new long[] {0, 0}, 0, 2); // 0 is skipped, as free(0) is
        a.mallocBulk(64, new long[1], 1, 0);
    }

    @Test
    void bulkCallsOfMixedSizesAndLargeBlocksFreeEachByItsOwnClass() {
        OffHeapAllocator a = allocator();
        long[] blocks = new long[400];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = a.malloc(i % 7 == 0 ? 400_000 : 8 + 37L * i);
        }
        a.freeBulk(blocks, 0, blocks.length);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void aBadAddressStopsFreeBulkThereAndSaysWhichAndWhatWasFreed() {
        OffHeapAllocator a = allocator();
        long[] blocks = new long[10];
        a.mallocBulk(64, blocks, 0, 10);
        long interior = blocks[6];
        blocks[6] = interior + 16;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.freeBulk(blocks, 0, 10));
        assertTrue(e.getMessage().contains("element 6 (6 blocks before it were freed, it and the 3 after it were not)")
                && e.getMessage().contains("interior pointer"), e.getMessage());
        assertEquals(4 * 64, a.stats().applicationBytes(), "6 freed; the block behind element 6 and 3 more still live");
        a.free(interior);
        a.freeBulk(blocks, 7, 3);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void bulkCallsRejectRangesOutsideTheArrayAndChangeNothing() {
        OffHeapAllocator a = allocator();
        long[] blocks = new long[4];
        assertThrows(IndexOutOfBoundsException.class, () -> a.mallocBulk(64, blocks, 2, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> a.mallocBulk(64, blocks, -1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> a.freeBulk(blocks, 0, 5));
        assertArrayEquals(new long[4], blocks);
        assertMessage(IllegalArgumentException.class, "-5", () -> a.mallocBulk(-5, blocks, 0, 4));
        assertArrayEquals(new long[4], blocks);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void checkedModeStopsFreeBulkAtADoubleFree() {
        OffHeapAllocator a = allocator(config().withChecked(true));
        long[] blocks = new long[4];
        a.mallocBulk(100, blocks, 0, 4);
        long last = blocks[3];
        blocks[3] = blocks[1];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.freeBulk(blocks, 0, 4));
        assertTrue(e.getMessage().contains("element 3") && e.getMessage().contains("already freed"), e.getMessage());
        a.free(last);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void aBulkAllocationThatCannotCompleteLeavesNothingAllocated() {
        OffHeapAllocator a = allocator(config().withMemoryLimit(64L << 20));
        long[] blocks = new long[200];
        assertThrows(OutOfMemoryError.class, () -> a.mallocBulk(1L << 20, blocks, 0, blocks.length));
        assertEquals(0, a.stats().applicationBytes(), "the blocks before the failure were given back");
        a.mallocBulk(1L << 20, blocks, 0, 10); // and the allocator still serves
        a.freeBulk(blocks, 0, 10);
    }

    @Test
    void everyCallAfterCloseThrowsIllegalState() {
        OffHeapAllocator a = allocator();
        long p = a.malloc(64);
        a.close();
        a.close(); // idempotent
        List<Runnable> calls = List.of(() -> a.malloc(64), () -> a.malloc(1 << 20), () -> a.mallocZeroed(10),
                () -> a.mallocAligned(10, 4096), () -> a.free(p), () -> a.freeSized(p, 64), () -> a.realloc(p, 10),
                () -> a.allocate(10, 8), () -> a.stats(), () -> a.statsReport(), () -> a.frontEnd(),
                () -> a.releaseMemory(), () -> a.newArena(), () -> a.mallocBulk(64, new long[4], 0, 4),
                () -> a.freeBulk(new long[] {p}, 0, 1));
        for (Runnable call : calls) {
            assertThrows(IllegalStateException.class, call::run);
        }
    }

    @Test
    void theGlobalInstanceCannotBeClosed() {
        OffHeapAllocator global = CpuSlab.global();
        assertThrows(UnsupportedOperationException.class, global::close);
        global.free(global.malloc(10));
    }

    // ---- stats and release ----

    @Test
    void statsPartsAddUpToMappedAndApplicationBytesMatchWhatIsLive() {
        OffHeapAllocator a = allocator();
        Random random = new Random(7);
        List<Long> live = new ArrayList<>();
        long expected = 0;
        for (int i = 0; i < 20_000; i++) {
            if (!live.isEmpty() && random.nextInt(3) == 0) {
                long p = live.remove(random.nextInt(live.size()));
                expected -= a.usableSize(p);
                a.free(p);
            } else {
                long size = random.nextInt(20) == 0 ? 300_000 + random.nextInt(1 << 20) : random.nextInt(5000);
                long p = a.malloc(size);
                expected += a.usableSize(p);
                live.add(p);
            }
        }
        AllocatorStats s = a.stats();
        assertEquals(expected, s.applicationBytes());
        assertEquals(s.mappedBytes(), s.applicationBytes() + s.cpuCacheBytes() + s.transferCacheBytes()
                + s.centralCacheBytes() + s.spanOverheadBytes() + s.pageHeapFreeBytes() + s.releasedBytes()
                + s.metadataBytes(), s.toString());
        assertTrue(s.cpuCacheBytes() > 0, "the per-CPU caches were used");
        live.forEach(a::free);
        assertEquals(0, a.stats().applicationBytes());
    }

    @Test
    void releaseMemoryDrainsEveryCacheAndReturnsFreePages() {
        FaultyMemory os = new FaultyMemory();
        OffHeapAllocator a = allocator(config().withOsMemory(os));
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            long p = a.malloc(i % 2000);
            at(p, i % 2000).fill((byte) 1);
            blocks.add(p);
        }
        blocks.forEach(a::free);
        a.releaseMemory();
        AllocatorStats s = a.stats();
        assertEquals(0, s.applicationBytes());
        assertEquals(0, s.cpuCacheBytes());
        assertEquals(0, s.transferCacheBytes());
        assertEquals(0, s.centralCacheBytes(), "every span went back to the page heap");
        if (os.canRelease()) {
            assertEquals(0, s.pageHeapFreeBytes());
            assertEquals(s.mappedBytes() - s.metadataBytes(), s.releasedBytes());
            assertTrue(s.releasedTotalBytes() > 0);
        }
        a.free(a.malloc(100)); // still works
    }

    @Test
    void softLimitReleasesFreePagesAtOnceAndNeverFailsAnAllocation() {
        long soft = 32L << 20;
        FaultyMemory os = new FaultyMemory();
        OffHeapAllocator a = allocator(config().withOsMemory(os).withSoftMemoryLimit(soft));
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long p = a.malloc(16L << 20); // 96 MiB in all: the soft limit never refuses
            at(p, 16L << 20).fill((byte) 1);
            blocks.add(p);
        }
        blocks.forEach(a::free);
        AllocatorStats s = a.stats();
        if (!os.canRelease()) {
            System.out.println("soft limit check skipped: " + os.description() + " cannot return memory");
            return;
        }
        assertTrue(s.pageHeapFreeBytes() <= soft, "free backed pages above the soft limit went back at once: " + s);
        assertTrue(s.releasedTotalBytes() >= (96L << 20) - soft, s.toString());
        a.free(a.malloc(16L << 20));
    }

    /**
     * Idle time 20 ms, a tick every 10 ms of a {@link ManualClock}: the first tick sees the frees' misses,
     * and the per-CPU caches stay until the tick 20 ms after it, which drains them. Their objects, put into
     * the transfer caches by that drain, wait there for an idle time of their own; then the spans whose
     * objects all came back are in the page heap again.
     */
    @Test
    void cachesIdleForIdleDrainMillisAreDrainedByTheMaintenanceThreadAndNotBefore() throws InterruptedException {
        ManualClock clock = new ManualClock();
        OffHeapAllocator a = allocator(config().withMaintenance(0, 20, 10).withMaintenanceClock(clock));
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            blocks.add(a.malloc(i % 3000));
        }
        blocks.forEach(a::free);
        AllocatorStats filled = a.stats();
        assertTrue(filled.cpuCacheBytes() > 0, "the frees filled the per-CPU caches");

        clock.advance(10); // the tick that sees the misses
        clock.advance(10);
        assertEquals(filled, a.stats(), "nothing drained after 10 ms idle");
        clock.advance(10);
        AllocatorStats drained = a.stats();
        assertEquals(0, drained.cpuCacheBytes(), "idle per-CPU caches drained after 20 ms: " + drained);
        assertTrue(drained.transferCacheBytes() > 0, "the drained objects wait in the transfer caches: " + drained);

        clock.advance(10);
        assertEquals(drained, a.stats(), "transfer caches the drain just filled are not idle yet");
        clock.advance(10);
        AllocatorStats s = a.stats();
        assertEquals(0, s.transferCacheBytes(), "idle transfer caches flushed: " + s);
        assertEquals(0, s.centralCacheBytes(), "spans whose objects all came back went to the page heap: " + s);
        a.free(a.malloc(100)); // a drained cache refills on its next miss
    }

    /**
     * Memory back to the OS after a burst, measured where nothing else disturbs the RSS: a forked JVM with
     * a 64 MiB heap runs {@link RssBurstMain} (1 GiB of blocks written, freed, background maintenance at
     * 1 GiB/s with caches drained after 100 ms idle) and fails unless its RSS comes back to within
     * {@link RssBurstMain#RSS_SLACK} of its baseline within the configured time plus slack.
     */
    @Test
    void rssReturnsNearTheBaselineAfterAGigabyteBurstIsFreedInAForkedJvm() throws Exception {
        if (!ProcessMemory.available() || !OsMemory.forThisPlatform().canRelease()) {
            System.out.println("RSS burst check skipped: no /proc/self/status or no madvise on this platform");
            return;
        }
        ForkedJvm.Result r = ForkedJvm.run(List.of(), Map.of(), forkedJvm("-Xmx64m", "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED"),
                RssBurstMain.class);
        System.out.println("RSS burst (" + frontEnd() + "): " + r.verdict());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.verdict().startsWith("OK"), r.output());
    }

    /**
     * A thread dying inside a call, as near as Java gets: {@link StackOverflowMain} in a forked JVM with a
     * 512 KiB stack makes 60,000 calls a few frames below the stack limit, most of which die of the
     * overflow somewhere inside. Nothing may be left locked (another thread's work, releaseMemory and
     * close finish), no block handed out twice, and checked work runs clean afterwards. With the slab
     * lock released through a method call instead of a store that cannot overflow (see
     * {@link SlabLayout#owning}), 6 of 12 such runs of the locked front end hung.
     */
    @Test
    void stackOverflowsInsideCallsLeaveNothingLockedAndNoBlockHandedOutTwiceInAForkedJvm() throws Exception {
        ForkedJvm.Result r = ForkedJvm.run(List.of(), Map.of(), forkedJvm("-Xss512k", "--enable-native-access=ALL-UNNAMED"),
                StackOverflowMain.class);
        System.out.println("stack overflows inside calls (" + frontEnd() + "): " + r.verdict());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.verdict().startsWith("OK"), r.output());
    }

    @Test
    void reportNamesTheFrontEndAndShowsTheTables() {
        OffHeapAllocator a = allocator();
        a.free(a.malloc(100));
        String report = a.statsReport();
        assertTrue(report.contains("Bytes in use by application"), report);
        assertTrue(report.contains("Bytes mapped from the OS"), report);
        assertTrue(report.contains("Size classes with memory"), report);
        assertTrue(report.contains("underflows"), report);
        assertTrue(report.contains(a.frontEnd().toString()), report);
        assertTrue(report.contains("Hugepages: " + a.stats().hugePages().reason()), report);
    }

    /** The suite's hugepage setting reaches the page heap, and stats say what was decided and why. */
    @Test
    void statsSayWhetherHugePagesAreInUseAndWhy() {
        AllocatorStats.HugePageStats h = allocator().stats().hugePages();
        HugePageSupport expected = HugePageSupport.decide(HUGE_PAGES, OsMemory.forThisPlatform());
        assertEquals(expected.inUse(), h.inUse(), h.reason());
        assertEquals(expected.reason(), h.reason());
        if (HUGE_PAGES == CpuSlab.HugePages.OFF) {
            assertTrue(!h.inUse() && h.reason().contains("cpuslab.hugePages=OFF"), h.reason());
        }
        System.out.println("hugepages (" + frontEnd() + "): " + h.reason());
    }

    /**
     * With hugepages in use, a live set of small blocks fills whole hugepages, the kernel backs them with
     * transparent huge pages, and freeing it all gives them back whole (none broken without a limit).
     */
    @Test
    void smallBlocksFillHugePagesThatTheKernelBacksWithHugePages() {
        OffHeapAllocator a = allocator();
        assumeTrue(a.stats().hugePages().inUse(), "hugepages not in use: " + a.stats().hugePages().reason());
        long before = a.transparentHugePageBytes();
        List<Long> blocks = new ArrayList<>();
        for (long bytes = 0; bytes < (32L << 20); bytes += 64 + 64 * (blocks.size() % 4)) {
            long size = 64 + 64 * (blocks.size() % 4);
            long p = a.malloc(size);
            at(p, size).fill((byte) 3);
            blocks.add(p);
        }
        AllocatorStats.HugePageStats h = a.stats().hugePages();
        assertTrue(h.full() >= 8, "32 MiB of small blocks fill hugepages: " + h);
        long thp = a.transparentHugePageBytes();
        System.out.println("AnonHugePages of the heap (" + frontEnd() + "): " + Bytes.format(before) + " before, "
                + Bytes.format(thp) + " after writing 32 MiB of 64-256 B blocks");
        assertTrue(thp - before >= 16L << 20, "AnonHugePages grew by " + (thp - before));
        blocks.forEach(a::free);
        a.releaseMemory();
        h = a.stats().hugePages();
        assertEquals(0, h.full() + h.partial() + h.broken() + h.brokenTotal(), h.toString());
        assertTrue(a.statsReport().contains("Bytes backed by transparent huge pages"));
    }

    private static void assertMessage(Class<? extends Throwable> type, String part, Runnable call) {
        Throwable t = assertThrows(type, call::run);
        assertTrue(t.getMessage() != null && t.getMessage().contains(part), "message '" + t.getMessage() + "' names " + part);
    }
}
