package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cpuslab's JFR events, recorded to a file and read back with {@link RecordingFile}: each slow operation
 * (drain, page heap growth, release to the OS for each reason, limit hits) leaves an event whose numbers
 * are what the allocator's statistics say moved, and the periodic statistics of a live allocator are its
 * {@code stats()}. Each front-end module runs it with a subclass that names its front end.
 */
public abstract class AllocatorFlightRecorderTest {
    private static final long MIB = 1 << 20;
    private static final int BLOCK = 1000;

    private final TestAllocators allocators = new TestAllocators();

    /** The front end under test. */
    protected abstract CpuSlab.FrontEnd frontEnd();

    private OffHeapAllocator allocator(AllocatorConfig config) {
        return allocators.create(config);
    }

    @AfterEach
    void closeAll() {
        allocators.close();
    }

    @Test
    void drainsGrowthAndReleaseMemoryAreRecordedWithWhatMoved(@TempDir Path dir) throws IOException {
        List<RecordedEvent> events;
        AllocatorStats beforeRelease;
        AllocatorStats afterRelease;
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-release-memory"));
        try (Recording recording = slowOperations()) {
            long[] blocks = new long[1000];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = a.malloc(BLOCK);
            }
            a.freeBulk(blocks, 0, blocks.length);
            beforeRelease = a.stats();
            a.releaseMemory();
            afterRelease = a.stats();
            events = readBack(recording, dir);
        }
        assertTrue(beforeRelease.cpuCacheBytes() > 0, "the frees left blocks in a per-CPU cache to drain");

        List<RecordedEvent> growths = of(events, "io.cpuslab.PageHeapGrowth", "jfr-release-memory");
        assertEquals(1, growths.size(), "one region served the blocks: " + growths);
        RecordedEvent growth = growths.getFirst();
        assertEquals(PageHeap.REGION_BYTES, growth.getLong("bytes"));
        assertTrue(growth.getLong("requestedBytes") > 0 && growth.getLong("requestedBytes") <= growth.getLong("bytes"), growth.toString());
        assertEquals(PageHeap.REGION_BYTES, growth.getLong("mappedBytes"));

        List<RecordedEvent> drains = of(events, "io.cpuslab.Drain", "jfr-release-memory");
        assertEquals(beforeRelease.slabs().size(), drains.size(), "releaseMemory drains every slab once: " + drains);
        long drained = 0;
        for (RecordedEvent drain : drains) {
            assertEquals("releaseMemory()", drain.getString("reason"));
            assertEquals(drain.getLong("objects") * SizeClasses.size(SizeClasses.classFor(BLOCK)), drain.getLong("bytes"),
                    "only blocks of one class were cached");
            drained += drain.getLong("bytes");
        }
        assertEquals(beforeRelease.cpuCacheBytes(), drained, "the drains moved every cached byte");

        List<RecordedEvent> releases = of(events, "io.cpuslab.Release", "jfr-release-memory");
        assertEquals(1, releases.size(), releases.toString());
        assertEquals("releaseMemory()", releases.getFirst().getString("reason"));
        long released = afterRelease.releasedTotalBytes() - beforeRelease.releasedTotalBytes();
        assertTrue(released > 0, "the blocks' spans went back to the OS");
        assertEquals(released, releases.getFirst().getLong("bytes"));
    }

    /**
     * Hard limit of 8 MiB: a 16 MiB request is refused; a 6 MiB request while a freed 5 MiB run is still
     * backed releases that run first, for the limit.
     */
    @Test
    void memoryLimitHitsAreRecordedRefusedOrWithTheBytesReleasedForThem(@TempDir Path dir) throws IOException {
        List<RecordedEvent> events;
        // Hugepages off: the spans are exactly the sizes asked (a hugepage-aware heap rounds 5 and 6 MiB up to
        // the same three hugepages, and the second request needs no room).
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-memory-limit").withMemoryLimit(8 * MIB)
                .withHugePages(CpuSlab.HugePages.OFF));
        try (Recording recording = slowOperations()) {
            assertThrows(OutOfMemoryError.class, () -> a.malloc(16 * MIB));
            a.free(a.malloc(5 * MIB));
            a.free(a.malloc(6 * MIB));
            events = readBack(recording, dir);
        }
        List<RecordedEvent> hits = of(events, "io.cpuslab.LimitHit", "jfr-memory-limit");
        assertEquals(2, hits.size(), hits.toString());
        RecordedEvent refused = hits.get(0);
        assertEquals("memoryLimit", refused.getString("limit"));
        assertEquals(8 * MIB, refused.getLong("limitBytes"));
        assertEquals(16 * MIB, refused.getLong("requestedBytes"));
        assertEquals(0, refused.getLong("releasedBytes"));
        assertTrue(refused.getBoolean("refused"));
        RecordedEvent madeRoom = hits.get(1);
        assertEquals("memoryLimit", madeRoom.getString("limit"));
        assertEquals(6 * MIB, madeRoom.getLong("requestedBytes"));
        assertEquals(5 * MIB, madeRoom.getLong("backedBytes"), "the freed 5 MiB run was still backed");
        assertEquals(5 * MIB, madeRoom.getLong("releasedBytes"));
        assertFalse(madeRoom.getBoolean("refused"));

        List<RecordedEvent> releases = of(events, "io.cpuslab.Release", "jfr-memory-limit");
        assertEquals(1, releases.size(), releases.toString());
        assertEquals("memoryLimit", releases.getFirst().getString("reason"));
        assertEquals(5 * MIB, releases.getFirst().getLong("bytes"));
    }

    /**
     * Soft limit of 4 MiB: a 6 MiB block takes backed memory above it (a hit with nothing free to release),
     * and its free releases the block's pages at once (a hit, and a release).
     */
    @Test
    void softLimitReleasesAreRecordedAsLimitHitsAndReleases(@TempDir Path dir) throws IOException {
        List<RecordedEvent> events;
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-soft-limit").withSoftMemoryLimit(4 * MIB));
        try (Recording recording = slowOperations()) {
            a.free(a.malloc(6 * MIB));
            events = readBack(recording, dir);
        }
        List<RecordedEvent> releases = of(events, "io.cpuslab.Release", "jfr-soft-limit");
        assertEquals(1, releases.size(), releases.toString());
        assertEquals("softMemoryLimit", releases.getFirst().getString("reason"));
        assertEquals(6 * MIB, releases.getFirst().getLong("bytes"));
        List<RecordedEvent> hits = of(events, "io.cpuslab.LimitHit", "jfr-soft-limit");
        assertEquals(2, hits.size(), hits.toString());
        for (RecordedEvent hit : hits) {
            assertEquals("softMemoryLimit", hit.getString("limit"));
            assertEquals(4 * MIB, hit.getLong("limitBytes"));
            assertFalse(hit.getBoolean("refused"));
        }
        RecordedEvent malloc = hits.get(0);
        assertEquals(6 * MIB, malloc.getLong("requestedBytes"));
        assertEquals(0, malloc.getLong("backedBytes"));
        assertEquals(0, malloc.getLong("releasedBytes"), "nothing free to release");
        RecordedEvent free = hits.get(1);
        assertEquals(0, free.getLong("requestedBytes"));
        assertEquals(6 * MIB, free.getLong("backedBytes"));
        assertEquals(6 * MIB, free.getLong("releasedBytes"));
    }

    /**
     * The maintenance thread's work, a tick at a time on a {@link ManualClock}: 1 MiB/s with ticks a second
     * apart releases exactly 1 MiB a tick (two free runs of 1 MiB, one per tick), and the cache idle since
     * the first tick is drained by the second, each recorded with its reason.
     */
    @Test
    void backgroundDrainsAndRateReleasesAreRecordedWithTheirReasons(@TempDir Path dir) throws Exception {
        ManualClock clock = new ManualClock();
        // Hugepages off: free runs are released as they are, not in whole hugepages.
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-maintenance")
                .withHugePages(CpuSlab.HugePages.OFF).withMaintenance(MIB, 1, 1000).withMaintenanceClock(clock));
        List<RecordedEvent> events;
        AllocatorStats before;
        AllocatorStats afterFirstTick;
        AllocatorStats afterSecondTick;
        try (Recording recording = slowOperations()) {
            a.free(a.malloc(64)); // a per-CPU cache with capacity, to drain once idle
            long first = a.malloc(MIB);
            a.malloc(MIB); // in use between the two free runs, so they stay two
            long third = a.malloc(MIB);
            a.free(first);
            a.free(third);
            before = a.stats();
            clock.advance(1000);
            afterFirstTick = a.stats();
            clock.advance(1000);
            afterSecondTick = a.stats();
            events = readBack(recording, dir);
        }
        assertEquals(MIB, afterFirstTick.releasedTotalBytes() - before.releasedTotalBytes(), "one tick's worth released");
        assertEquals(MIB, afterSecondTick.releasedTotalBytes() - afterFirstTick.releasedTotalBytes(), "one tick's worth released");
        assertEquals(0, drains(afterFirstTick), "nothing is idle at the tick that first sees it");
        assertTrue(drains(afterSecondTick) > 0, "the cache idle since the first tick was drained");

        List<RecordedEvent> drains = of(events, "io.cpuslab.Drain", "jfr-maintenance");
        assertEquals(drains(afterSecondTick), drains.size(), "one event per drain: " + drains);
        assertTrue(drains.stream().allMatch(e -> e.getString("reason").equals("idleDrainMillis")), drains.toString());
        List<RecordedEvent> releases = of(events, "io.cpuslab.Release", "jfr-maintenance");
        assertEquals(2, releases.size(), "one release per tick: " + releases);
        assertTrue(releases.stream().allMatch(e -> e.getString("reason").equals("releaseRate") && e.getLong("bytes") == MIB),
                releases.toString());
    }

    private static long drains(AllocatorStats s) {
        return s.slabs().stream().mapToLong(AllocatorStats.SlabStats::drains).sum();
    }

    /**
     * A quiet allocator's periodic events carry exactly its {@code stats()}, each period; an allocator closed
     * before the recording has none.
     */
    @Test
    void periodicStatisticsOfEachLiveAllocatorAreItsStats(@TempDir Path dir) throws Exception {
        OffHeapAllocator closed = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-statistics-closed"));
        closed.close();
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()).withName("jfr-statistics"));
        for (int i = 0; i < 100; i++) {
            a.malloc(100);
        }
        a.malloc(3 * MIB);
        AllocatorStats before = a.stats();
        List<RecordedEvent> events;
        try (Recording recording = new Recording()) {
            for (String name : List.of("io.cpuslab.Statistics", "io.cpuslab.ClassStatistics", "io.cpuslab.SlabStatistics")) {
                recording.enable(name).withPeriod(Duration.ofMillis(100));
            }
            recording.start();
            Thread.sleep(1000); // several periods
            events = readBack(recording, dir);
        }
        AllocatorStats s = a.stats();
        assertEquals(before, s, "nothing changed the allocator while it was recorded");
        assertTrue(events.stream().noneMatch(e -> e.hasField("allocator") && "jfr-statistics-closed".equals(e.getString("allocator"))),
                "a closed allocator has no statistics");

        List<RecordedEvent> statistics = of(events, "io.cpuslab.Statistics", "jfr-statistics");
        assertTrue(statistics.size() >= 2, "one event per period: " + statistics.size());
        for (RecordedEvent e : statistics) {
            assertEquals(a.frontEnd().toString(), e.getString("frontEnd"));
            assertEquals(s, new AllocatorStats(e.getLong("applicationBytes"), e.getLong("cpuCacheBytes"),
                    e.getLong("transferCacheBytes"), e.getLong("centralCacheBytes"), e.getLong("spanOverheadBytes"),
                    e.getLong("pageHeapFreeBytes"), e.getLong("releasedBytes"), e.getLong("metadataBytes"),
                    e.getLong("mappedBytes"), e.getLong("releasedTotalBytes"), e.getLong("pageMapHeapBytes"),
                    s.classes(), s.slabs(), s.hugePages()));
            assertEquals(s.cachedBytes(), e.getLong("cachedBytes"));
            assertEquals(s.residentBytes(), e.getLong("residentBytes"));
            assertEquals(s.hugePages().inUse(), e.getBoolean("hugePagesInUse"));
            assertEquals(s.hugePages().full(), e.getLong("hugePagesFull"));
            assertEquals(s.hugePages().partial(), e.getLong("hugePagesPartial"));
            assertEquals(s.hugePages().free(), e.getLong("hugePagesFree"));
            assertEquals(s.hugePages().broken(), e.getLong("hugePagesBroken"));
        }
        assertTrue(s.applicationBytes() >= 100 * 100 + 3 * MIB, "the blocks held are in the numbers");

        List<RecordedEvent> classes = of(events, "io.cpuslab.ClassStatistics", "jfr-statistics");
        assertTrue(classes.size() >= 2 * s.classes().size(), "every class with memory, each period: " + classes.size());
        for (RecordedEvent e : classes) {
            AllocatorStats.ClassStats row = new AllocatorStats.ClassStats(e.getInt("sizeClass"), e.getInt("objectSize"),
                    e.getLong("applicationObjects"), e.getLong("cpuCacheObjects"), e.getLong("transferObjects"),
                    e.getLong("transferCapacity"), e.getLong("centralFreeObjects"), e.getLong("spans"),
                    e.getLong("transferInsertHits"), e.getLong("transferInsertMisses"), e.getLong("transferRemoveHits"),
                    e.getLong("transferRemoveMisses"));
            assertTrue(s.classes().contains(row), row + " is a row of " + s.classes());
        }

        List<RecordedEvent> slabs = of(events, "io.cpuslab.SlabStatistics", "jfr-statistics");
        assertTrue(slabs.size() >= 2 * s.slabs().size(), "every slab, each period: " + slabs.size());
        for (RecordedEvent e : slabs) {
            AllocatorStats.SlabStats row = new AllocatorStats.SlabStats(e.getInt("slab"), e.getLong("cachedBytes"),
                    e.getLong("capacityBytes"), e.getLong("underflows"), e.getLong("overflows"), e.getLong("drains"));
            assertEquals(s.slabs().get(row.slab()), row);
        }
    }

    /**
     * Closing takes an allocator out of the periodic statistics (and JMX): nothing cpuslab registered keeps
     * a closed allocator from the garbage collector.
     */
    @Test
    void aClosedAllocatorIsNotKeptForItsStatistics() throws InterruptedException {
        WeakReference<OffHeapAllocator> closed = closedAndDropped();
        awaitTrue(() -> {
            System.gc();
            return closed.get() == null;
        });
    }

    private WeakReference<OffHeapAllocator> closedAndDropped() {
        OffHeapAllocator a = CpuSlabAllocator.create(AllocatorConfig.defaults(frontEnd()).withName("jfr-dropped"));
        a.free(a.malloc(64));
        a.close();
        return new WeakReference<>(a);
    }

    /**
     * The JVM's first recording starts while allocator threads make events: JFR initializes under its
     * registration lock and calls cpuslab's listener, which must not let any other thread near an event
     * class before it registered them all. With the flag set first, 9 of 20 such JVMs deadlocked; each
     * fork reports one verdict within 20 s.
     */
    @Test
    void theFirstRecordingStartsWhileAllocatorThreadsMakeEvents() throws Exception {
        for (int i = 0; i < 6; i++) {
            ForkedJvm.Result r = ForkedJvm.run(List.of(), Map.of(), List.of("--enable-native-access=ALL-UNNAMED",
                    "-Dcpuslab.frontEnd=" + frontEnd()), RecorderStartMain.class);
            assertEquals("OK", r.verdict(), r.output());
        }
    }

    /**
     * Without a recording no event class is loaded, though every slow operation runs: the JDK initializes
     * JFR's metadata when the first one loads, a fraction of a second the first growing malloc would wait.
     */
    @Test
    void withoutARecordingNoEventClassIsLoaded() throws Exception {
        String output = ShortWorkMain.run(frontEnd(), "-Xlog:class+load=info");
        assertTrue(output.contains(" io.cpuslab.core.AllocatorEvents "), "the class log is there: " + output);
        for (String type : List.of("Statistics", "ClassStatistics", "SlabStatistics", "Drain", "PageHeapGrowth",
                "Release", "LimitHit")) {
            assertFalse(output.contains("AllocatorEvents$" + type + " "), type + " was loaded");
        }
        assertFalse(output.contains("jdk.jfr.internal.MetadataRepository"), "JFR's metadata was initialized");
    }

    /**
     * Without the {@code jdk.jfr} module (a jlinked runtime, or a module path that does not resolve it) an
     * allocator is made, runs every slow operation, and the {@code DEBUG} log says there are no events.
     */
    @Test
    void withoutJdkJfrAllocatorsStillWork() throws Exception {
        String output = ShortWorkMain.runWithModulesOnly("java.base", frontEnd());
        assertTrue(output.contains("no JFR events"), output);
        assertTrue(output.contains("NoClassDefFoundError: jdk/jfr/"), output);
    }

    /** A started recording of the slow-operation events, every one of them (no duration threshold). */
    private static Recording slowOperations() {
        Recording recording = new Recording();
        for (String name : List.of("io.cpuslab.Drain", "io.cpuslab.PageHeapGrowth", "io.cpuslab.Release", "io.cpuslab.LimitHit")) {
            recording.enable(name).withThreshold(Duration.ZERO);
        }
        recording.start();
        return recording;
    }

    /** Stops the recording, dumps it to a file and reads every event back, in the order they were committed. */
    private static List<RecordedEvent> readBack(Recording recording, Path dir) throws IOException {
        recording.stop();
        Path file = dir.resolve("cpuslab.jfr");
        recording.dump(file);
        List<RecordedEvent> events = new ArrayList<>(RecordingFile.readAllEvents(file));
        events.sort((x, y) -> x.getStartTime().compareTo(y.getStartTime()));
        return events;
    }

    private static List<RecordedEvent> of(List<RecordedEvent> events, String type, String allocator) {
        return events.stream().filter(e -> e.getEventType().getName().equals(type))
                .filter(e -> allocator.equals(e.getString("allocator"))).toList();
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(10);
        }
    }
}
