package io.cpuslab.core;

import io.cpuslab.AllocatorStats;
import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cpuslab's JDK Flight Recorder events, so JDK Mission Control and {@code jfr print} show an allocator
 * without code: periodic statistics of every live allocator, and one event per slow operation that can stall
 * a caller (a per-CPU cache drain, page heap growth, a release to the OS, a memory limit reached). All are
 * in category {@code cpuslab} and name their allocator in the field {@code allocator}.
 *
 * <pre>{@code
 * // outside the process: jcmd <pid> JFR.start duration=60s filename=cpuslab.jfr
 * //                      jfr print --events 'io.cpuslab.*' cpuslab.jfr
 * // inside:
 * try (Recording recording = new Recording()) {
 *     recording.enable("io.cpuslab.Statistics").withPeriod(Duration.ofSeconds(1));
 *     recording.enable("io.cpuslab.Drain");
 *     recording.start();
 *     ...
 *     recording.dump(Path.of("cpuslab.jfr"));
 * }
 * }</pre>
 *
 * <p><b>Why this costs nothing with JFR off.</b> Nothing here is on the {@code malloc}/{@code free} fast
 * paths: the slow-operation events are made where the allocator already pays for a lock, a membarrier or a
 * system call, and only the allocator's name is set before {@link Event#shouldCommit()} says JFR records
 * the event. Until the recorder is initialized no event is made at all and no event class is loaded: the
 * JDK initializes JFR's metadata when the first {@link Event} subclass loads, which took 0.2 to 0.4 s on a
 * 2-vCPU machine (JDK 25), and would have stalled the first {@code malloc} that grows the heap. A
 * {@link FlightRecorderListener} registers the event types and the periodic hooks, and lets events be
 * made, when the first recording starts (or at once, if one already runs). From then on, while no
 * recording wants an event, {@code begin}, {@code end} and {@code shouldCommit} check one flag.
 *
 * <p><b>One hook per periodic event, not per allocator.</b> Live allocators {@link #watch} themselves and
 * {@link #unwatch} on close; each periodic hook emits one event per live allocator. JFR keeps one "has a
 * hook" flag per event type, which removing any hook clears, so one hook per allocator would hide the
 * {@code period} setting of every other allocator's statistics once the first one closed.
 *
 * <p>An instance carries one allocator's name into the events its page heap, caches and maintenance thread
 * make: {@code new AllocatorEvents(name).drain()} starts a drain's event (null before JFR starts), its
 * {@code finish(...)} commits it.
 */
final class AllocatorEvents {
    private static final System.Logger LOG = System.getLogger("io.cpuslab");
    /** The allocators whose statistics the periodic hooks emit. */
    private static final Set<CpuSlabAllocator> LIVE = ConcurrentHashMap.newKeySet();
    /** Whether the recorder is initialized: until then no event is made (see the class comment). */
    private static volatile boolean recorder;

    /** Why a cache was drained or memory went back to the OS: named after the call or setting behind it. */
    enum Reason {
        RELEASE_MEMORY("releaseMemory()"),
        RELEASE_RATE("releaseRate"),
        IDLE("idleDrainMillis"),
        SOFT_LIMIT("softMemoryLimit"),
        MEMORY_LIMIT("memoryLimit");

        /** The value of an event's {@code reason} or {@code limit} field. */
        final String label;

        Reason(String label) {
            this.label = label;
        }
    }

    private final String allocator;

    /** @param allocator the name the events carry: the allocator's */
    AllocatorEvents(String allocator) {
        this.allocator = allocator;
    }

    /**
     * Emits the periodic events for {@code allocator} from now on, one of each per period. In a runtime
     * without the {@code jdk.jfr} module (a jlinked image) the listener cannot be added, so the recorder is
     * never seen to start and no event is ever made: the allocator works the same, without events.
     */
    static void watch(CpuSlabAllocator allocator) {
        try {
            Hooks.install();
        } catch (LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "cpuslab: no JFR events (the allocator works without them)", e);
        }
        LIVE.add(allocator);
    }

    /** Stops the periodic events for {@code allocator}; called by its {@code close()}. */
    static void unwatch(CpuSlabAllocator allocator) {
        LIVE.remove(allocator);
    }

    /** Registers the event types and periodic hooks when JFR starts; never before (see the class comment). */
    private static final class Hooks implements FlightRecorderListener {
        static {
            FlightRecorder.addListener(new Hooks());
        }

        /** Runs the static initializer once, on the first allocator. */
        static void install() {
        }

        @Override
        public void recorderInitialized(FlightRecorder flightRecorder) {
            // Registered up front, so recording settings and JMC's event browser know them before the first one.
            for (Class<? extends Event> type : List.of(Statistics.class, ClassStatistics.class, SlabStatistics.class,
                    Drain.class, PageHeapGrowth.class, Release.class, LimitHit.class)) {
                FlightRecorder.register(type);
            }
            FlightRecorder.addPeriodicEvent(Statistics.class, AllocatorEvents::statistics);
            FlightRecorder.addPeriodicEvent(ClassStatistics.class, AllocatorEvents::classStatistics);
            FlightRecorder.addPeriodicEvent(SlabStatistics.class, AllocatorEvents::slabStatistics);
            // Last: JFR calls this holding its registration lock, and an event class's initializer takes that
            // lock too. Had another thread seen the flag first, it could be initializing an event class while
            // this thread, holding the lock, waited for that class: a deadlock (RecorderStartMain).
            recorder = true;
        }
    }

    // ---- the periodic hooks: one event (or one per row) for each live allocator. A hook must not throw: JFR
    // logs each exception as a warning ----

    private static void statistics() {
        LIVE.forEach(AllocatorEvents::emitStatistics);
    }

    private static void classStatistics() {
        LIVE.forEach(AllocatorEvents::emitClassStatistics);
    }

    private static void slabStatistics() {
        LIVE.forEach(AllocatorEvents::emitSlabStatistics);
    }

    /** The allocator's numbers, or null when it closed after the hook saw it live. */
    private static AllocatorStats statsOf(CpuSlabAllocator allocator) {
        try {
            return allocator.stats();
        } catch (IllegalStateException closed) {
            return null;
        }
    }

    private static void emitStatistics(CpuSlabAllocator allocator) {
        AllocatorStats s;
        String frontEnd;
        try {
            s = allocator.stats();
            frontEnd = allocator.frontEnd().toString();
        } catch (IllegalStateException closed) {
            return; // closed after the hook saw it live
        }
        Statistics e = new Statistics();
        e.allocator = allocator.name();
        e.frontEnd = frontEnd;
        e.applicationBytes = s.applicationBytes();
        e.cpuCacheBytes = s.cpuCacheBytes();
        e.transferCacheBytes = s.transferCacheBytes();
        e.centralCacheBytes = s.centralCacheBytes();
        e.spanOverheadBytes = s.spanOverheadBytes();
        e.pageHeapFreeBytes = s.pageHeapFreeBytes();
        e.releasedBytes = s.releasedBytes();
        e.metadataBytes = s.metadataBytes();
        e.mappedBytes = s.mappedBytes();
        e.releasedTotalBytes = s.releasedTotalBytes();
        e.pageMapHeapBytes = s.pageMapHeapBytes();
        e.cachedBytes = s.cachedBytes();
        e.residentBytes = s.residentBytes();
        AllocatorStats.HugePageStats h = s.hugePages();
        e.hugePagesInUse = h.inUse();
        e.hugePagesFull = h.full();
        e.hugePagesPartial = h.partial();
        e.hugePagesFree = h.free();
        e.hugePagesBroken = h.broken();
        e.commit();
    }

    private static void emitClassStatistics(CpuSlabAllocator allocator) {
        AllocatorStats s = statsOf(allocator);
        if (s == null) {
            return;
        }
        for (AllocatorStats.ClassStats c : s.classes()) {
            ClassStatistics e = new ClassStatistics();
            e.allocator = allocator.name();
            e.sizeClass = c.sizeClass();
            e.objectSize = c.objectSize();
            e.applicationObjects = c.applicationObjects();
            e.cpuCacheObjects = c.cpuCacheObjects();
            e.transferObjects = c.transferObjects();
            e.transferCapacity = c.transferCapacity();
            e.centralFreeObjects = c.centralFreeObjects();
            e.spans = c.spans();
            e.transferInsertHits = c.transferInsertHits();
            e.transferInsertMisses = c.transferInsertMisses();
            e.transferRemoveHits = c.transferRemoveHits();
            e.transferRemoveMisses = c.transferRemoveMisses();
            e.commit();
        }
    }

    private static void emitSlabStatistics(CpuSlabAllocator allocator) {
        AllocatorStats s = statsOf(allocator);
        if (s == null) {
            return;
        }
        for (AllocatorStats.SlabStats c : s.slabs()) {
            SlabStatistics e = new SlabStatistics();
            e.allocator = allocator.name();
            e.slab = c.slab();
            e.cachedBytes = c.cachedBytes();
            e.capacityBytes = c.capacityBytes();
            e.underflows = c.underflows();
            e.overflows = c.overflows();
            e.drains = c.drains();
            e.commit();
        }
    }

    // ---- the slow operations: each starts its event before the work and ends it after; null until the
    // recorder is initialized. Spelled out one by one on purpose: a generic helper taking the event would
    // make the verifier load every event class as soon as this class loads, with no recording at all (a
    // stall in the first slow operation, and an error where jdk.jfr is not in the runtime). ----

    /** Starts the event of a per-CPU cache drain. */
    Drain drain() {
        if (!recorder) {
            return null;
        }
        Drain e = new Drain();
        e.allocator = allocator;
        e.begin();
        return e;
    }

    /** Starts the event of a new region mapped for the page heap. */
    PageHeapGrowth growth() {
        if (!recorder) {
            return null;
        }
        PageHeapGrowth e = new PageHeapGrowth();
        e.allocator = allocator;
        e.begin();
        return e;
    }

    /** Starts the event of free pages going back to the OS. */
    Release release() {
        if (!recorder) {
            return null;
        }
        Release e = new Release();
        e.allocator = allocator;
        e.begin();
        return e;
    }

    /** A request or a free found backed memory over a limit ({@code refused}: the request failed for it). */
    void limitHit(Reason limit, long limitBytes, long backedBytes, long requestedBytes, long releasedBytes, boolean refused) {
        if (!recorder) {
            return;
        }
        LimitHit e = new LimitHit();
        if (e.shouldCommit()) {
            e.allocator = allocator;
            e.limit = limit.label;
            e.limitBytes = limitBytes;
            e.backedBytes = backedBytes;
            e.requestedBytes = requestedBytes;
            e.releasedBytes = releasedBytes;
            e.refused = refused;
            e.commit();
        }
    }

    // ---- the event types ----

    @Name("io.cpuslab.Statistics")
    @Label("cpuslab Statistics")
    @Description("Where one allocator's memory is, as OffHeapAllocator.stats() says: the parts from application"
            + " to metadata add up to the mapped bytes")
    @Category("cpuslab")
    @Period("1 s")
    @StackTrace(false)
    static final class Statistics extends Event {
        @Label("Allocator")
        @Description("The allocator's name (JMX name key)")
        String allocator;
        @Label("Front End")
        @Description("Which front end serves the allocator, and why")
        String frontEnd;
        @Label("Application")
        @Description("Bytes of blocks handed out and not freed (rounded up to class size or pages)")
        @DataAmount
        long applicationBytes;
        @Label("Per-CPU Caches")
        @Description("Free blocks in per-CPU (or per-shard) caches")
        @DataAmount
        long cpuCacheBytes;
        @Label("Transfer Caches")
        @Description("Free blocks in transfer caches")
        @DataAmount
        long transferCacheBytes;
        @Label("Central Free Lists")
        @Description("Free blocks in spans held by the central free lists")
        @DataAmount
        long centralCacheBytes;
        @Label("Span Overhead")
        @Description("Span tails too small for one more object of their class")
        @DataAmount
        long spanOverheadBytes;
        @Label("Page Heap Free")
        @Description("Free pages still backed by memory")
        @DataAmount
        long pageHeapFreeBytes;
        @Label("Released")
        @Description("Free pages given back to the OS (mapped, not resident)")
        @DataAmount
        long releasedBytes;
        @Label("Metadata")
        @Description("Off-heap metadata: the per-CPU slab regions and the native page map (address space)")
        @DataAmount
        long metadataBytes;
        @Label("Mapped")
        @Description("All address space the allocator holds from the OS")
        @DataAmount
        long mappedBytes;
        @Label("Released Since Start")
        @Description("Bytes handed back to the OS since the allocator started, counting repeats")
        @DataAmount
        long releasedTotalBytes;
        @Label("Page Map Heap")
        @Description("Java heap held by the page map (not part of the sum)")
        @DataAmount
        long pageMapHeapBytes;
        @Label("Cached")
        @Description("Free memory held by caches at every level: per-CPU, transfer, central, page heap")
        @DataAmount
        long cachedBytes;
        @Label("Resident")
        @Description("Memory the OS has to back: mapped minus released")
        @DataAmount
        long residentBytes;
        @Label("Hugepage-Aware")
        @Description("Whether the page heap packs spans into 2 MiB hugepages (cpuslab.hugePages and the kernel's THP mode)")
        boolean hugePagesInUse;
        @Label("Hugepages Full")
        @Description("Hugepages whose pages are all in spans")
        long hugePagesFull;
        @Label("Hugepages Partial")
        @Description("Hugepages partly in spans")
        long hugePagesPartial;
        @Label("Hugepages Free")
        @Description("Whole free hugepages still backed")
        long hugePagesFree;
        @Label("Hugepages Broken")
        @Description("Hugepages with some free pages released to the OS (no longer one huge page)")
        long hugePagesBroken;
    }

    @Name("io.cpuslab.ClassStatistics")
    @Label("cpuslab Size Class Statistics")
    @Description("One size class of one allocator, for every class that has memory")
    @Category("cpuslab")
    @Period("everyChunk")
    @StackTrace(false)
    static final class ClassStatistics extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Size Class")
        int sizeClass;
        @Label("Object Size")
        @DataAmount
        int objectSize;
        @Label("Application Objects")
        @Description("Objects handed out to the application")
        long applicationObjects;
        @Label("Per-CPU Cache Objects")
        long cpuCacheObjects;
        @Label("Transfer Cache Objects")
        long transferObjects;
        @Label("Transfer Cache Capacity")
        @Description("Transfer cache capacity in objects")
        long transferCapacity;
        @Label("Central Free Objects")
        @Description("Free objects in the central free list's spans")
        long centralFreeObjects;
        @Label("Spans")
        long spans;
        @Label("Transfer Insert Hits")
        long transferInsertHits;
        @Label("Transfer Insert Misses")
        long transferInsertMisses;
        @Label("Transfer Remove Hits")
        long transferRemoveHits;
        @Label("Transfer Remove Misses")
        long transferRemoveMisses;
    }

    @Name("io.cpuslab.SlabStatistics")
    @Label("cpuslab Per-CPU Cache Statistics")
    @Description("One per-CPU slab (a CPU on the rseq front end, a shard on the locked one) of one allocator")
    @Category("cpuslab")
    @Period("everyChunk")
    @StackTrace(false)
    static final class SlabStatistics extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Slab")
        @Description("CPU number (rseq) or shard number (locked)")
        int slab;
        @Label("Cached")
        @Description("Bytes of free objects cached")
        @DataAmount
        long cachedBytes;
        @Label("Capacity")
        @Description("Bytes the cache may hold at its current capacities (within the budget)")
        @DataAmount
        long capacityBytes;
        @Label("Underflows")
        @Description("Allocations that found the cache empty")
        long underflows;
        @Label("Overflows")
        @Description("Frees that found the cache full")
        long overflows;
        @Label("Drains")
        long drains;
    }

    @Name("io.cpuslab.Drain")
    @Label("cpuslab Per-CPU Cache Drain")
    @Description("A per-CPU cache stopped, fenced and emptied into the transfer caches; its slot pages go back"
            + " to the OS")
    @Category("cpuslab")
    static final class Drain extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Slab")
        @Description("CPU number (rseq) or shard number (locked)")
        int slab;
        @Label("Reason")
        @Description("releaseMemory(), idleDrainMillis or softMemoryLimit")
        String reason;
        @Label("Objects")
        @Description("Free objects moved to the transfer caches")
        long objects;
        @Label("Bytes")
        @Description("Bytes of the objects moved")
        @DataAmount
        long bytes;

        /** Ends the drain and commits it if JFR records it. */
        void finish(int slab, Reason reason, long objects, long bytes) {
            end();
            if (shouldCommit()) {
                this.slab = slab;
                this.reason = reason.label;
                this.objects = objects;
                this.bytes = bytes;
                commit();
            }
        }
    }

    @Name("io.cpuslab.PageHeapGrowth")
    @Label("cpuslab Page Heap Growth")
    @Description("A new region mapped from the OS because no free run could serve a request")
    @Category("cpuslab")
    static final class PageHeapGrowth extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Region")
        @Description("Bytes of the new region")
        @DataAmount
        long bytes;
        @Label("Requested")
        @Description("Bytes of the request that found no free run")
        @DataAmount
        long requestedBytes;
        @Label("Mapped")
        @Description("The page heap's mapped bytes with the new region")
        @DataAmount
        long mappedBytes;

        /** Ends the growth and commits it if JFR records it. */
        void finish(long bytes, long requestedBytes, long mappedBytes) {
            end();
            if (shouldCommit()) {
                this.bytes = bytes;
                this.requestedBytes = requestedBytes;
                this.mappedBytes = mappedBytes;
                commit();
            }
        }
    }

    @Name("io.cpuslab.Release")
    @Label("cpuslab Release to the OS")
    @Description("Free pages given back to the OS with madvise(MADV_DONTNEED)")
    @Category("cpuslab")
    static final class Release extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Reason")
        @Description("releaseMemory(), releaseRate, softMemoryLimit or memoryLimit")
        String reason;
        @Label("Bytes")
        @Description("Bytes released")
        @DataAmount
        long bytes;

        /** Ends the release and commits it if any bytes went back and JFR records it. */
        void finish(Reason reason, long bytes) {
            end();
            if (bytes > 0 && shouldCommit()) {
                this.reason = reason.label;
                this.bytes = bytes;
                commit();
            }
        }
    }

    @Name("io.cpuslab.LimitHit")
    @Label("cpuslab Memory Limit Hit")
    @Description("A request or a free found the allocator's backed memory over a limit: free pages were"
            + " released, or (memoryLimit only) the request failed with OutOfMemoryError")
    @Category("cpuslab")
    static final class LimitHit extends Event {
        @Label("Allocator")
        String allocator;
        @Label("Limit")
        @Description("memoryLimit (hard) or softMemoryLimit")
        String limit;
        @Label("Limit Bytes")
        @DataAmount
        long limitBytes;
        @Label("Backed")
        @Description("Bytes in use plus free backed bytes when the limit was hit")
        @DataAmount
        long backedBytes;
        @Label("Requested")
        @Description("Bytes the request asked for (0 for a free)")
        @DataAmount
        long requestedBytes;
        @Label("Released")
        @Description("Free bytes released to get under the limit")
        @DataAmount
        long releasedBytes;
        @Label("Refused")
        @Description("Whether the request failed with OutOfMemoryError")
        boolean refused;
    }
}
