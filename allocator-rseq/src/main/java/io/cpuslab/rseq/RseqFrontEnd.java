package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.NativePageMap;
import io.cpuslab.core.SizeClasses;
import io.cpuslab.core.SlabFrontEnd;
import io.cpuslab.core.SlabLayout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The rseq front end, compliant mode: one slab per CPU (or per mm_cid), push and pop as restartable
 * sequences in native code (see {@code rseq_x86_64.S}), so an operation either completes on the CPU
 * it started on or is restarted; no locks, no atomics.
 *
 * <p>Each allocator gets a native descriptor {base, slab count, index field, begin[], max capacity[],
 * slab bytes, page map} that every critical section reads inside the section. The allocator's fast
 * path calls the native malloc and free of the descriptor's flavour directly ({@link #nativeDescriptor()},
 * {@link #nativeFlavour()}); the methods here serve its slow path and core's remote work. Core's remote work on a slab (drain, steal)
 * sets the slab's stop word, which every section checks before committing, then fences the CPU with
 * {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)}: sections that started before the stop
 * word was set are aborted and restart into a miss. Closing sets the descriptor's slab count to 0 and
 * fences every CPU, after which no section touches slab memory.
 *
 * <p>Nothing per-thread is cached in Java: the native code finds the thread's rseq area from the thread
 * pointer on every call, so virtual threads may move between carriers between any two calls.
 *
 * <pre>{@code
 * OffHeapAllocator alloc = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build();
 * }</pre>
 */
public sealed class RseqFrontEnd implements SlabFrontEnd permits OverlayFrontEnd {
    /**
     * The descriptor every native call takes first (struct cpuslab_desc in cpuslab_rseq.h, whose offsets
     * the library reports when it loads and {@link LibraryContract} checks against these).
     */
    static final StructLayout DESCRIPTOR = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("DESC_BASE"),                 // address of slab 0
            ValueLayout.JAVA_INT.withName("DESC_NSLABS"),                // slabs; 0 once closed (publishes the rest)
            ValueLayout.JAVA_INT.withName("DESC_INDEX_FIELD"),           // struct rseq offset of the slab index
            MemoryLayout.sequenceLayout(SizeClasses.COUNT, ValueLayout.JAVA_SHORT).withName("DESC_BEGIN"),        // first slot word per class
            MemoryLayout.sequenceLayout(SizeClasses.COUNT, ValueLayout.JAVA_SHORT).withName("DESC_MAX_CAPACITY"), // most slots per class
            ValueLayout.JAVA_LONG.withName("DESC_SLAB_BYTES"),           // nslabs << SHIFT; 0 once closed
            ValueLayout.JAVA_LONG.withName("DESC_PAGE_MAP"));            // the native page map's root; 0 once closed
    private static final long DESC_BASE = offset("DESC_BASE");
    private static final long DESC_NSLABS = offset("DESC_NSLABS");
    private static final long DESC_INDEX_FIELD = offset("DESC_INDEX_FIELD");
    private static final long DESC_BEGIN = offset("DESC_BEGIN");
    private static final long DESC_MAX_CAPACITY = offset("DESC_MAX_CAPACITY");
    private static final long DESC_SLAB_BYTES = offset("DESC_SLAB_BYTES");
    private static final long DESC_PAGE_MAP = offset("DESC_PAGE_MAP");
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    /** struct rseq offsets of the slab index (the Linux ABI). */
    static final int CPU_ID = 4;
    static final int MM_CID = 24;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final int FENCE_ATTEMPTS = 8;
    private static final int ENOMEM = 12;
    private static final int EAGAIN = 11;
    /** Starts a slab its last owner left stopped (see restartIfAbandoned). */
    private static final SlabLayout.Work RESTART_IF_STOPPED = (owned, slab, unusedClass, unusedArg) -> {
        if (owned.isStopped(slab)) {
            owned.startFastPath(slab);
        }
        return 0;
    };

    private static long offset(String field) {
        return DESCRIPTOR.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    private final SlabLayout layout;
    private final MemorySegment descriptor;
    /** The native descriptor's address, the first argument of every section. */
    final long desc;
    private final int indexField;
    private final boolean mmCid;
    private final NativeFastPath.Flavour flavour;
    private final FrontEndInfo info;

    /** A front end without the one-call fast path (its malloc and free sections always miss). */
    RseqFrontEnd(SlabLayout layout, CpuSlab.Index index, String reason) {
        this(layout, index, reason, null);
    }

    /** @param classes the page map's native mirror the free sections read, or null for none */
    RseqFrontEnd(SlabLayout layout, CpuSlab.Index index, String reason, NativePageMap classes) {
        this(layout, index, reason, classes, FrontEndInfo.Kind.RSEQ_COMPLIANT, "");
    }

    /** For {@link OverlayFrontEnd}: {@code kind} and {@code mode} (a few words) go into {@link #info()}. */
    RseqFrontEnd(SlabLayout layout, CpuSlab.Index index, String reason, NativePageMap classes, FrontEndInfo.Kind kind,
                 String mode) {
        this.layout = layout;
        this.mmCid = index == CpuSlab.Index.MM_CID;
        this.indexField = mmCid ? MM_CID : CPU_ID;
        this.flavour = kind == FrontEndInfo.Kind.RSEQ_OVERLAY ? NativeFastPath.Flavour.OVERLAY
                : mmCid ? NativeFastPath.Flavour.MM_CID : NativeFastPath.Flavour.CPU_ID;
        // Lives as long as the JVM: a thread racing with close may still read it (one DESCRIPTOR per allocator).
        this.descriptor = Arena.global().allocate(DESCRIPTOR.byteSize(), 64);
        descriptor.set(ValueLayout.JAVA_LONG, DESC_BASE, layout.address());
        descriptor.set(ValueLayout.JAVA_INT, DESC_INDEX_FIELD, indexField);
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            descriptor.set(ValueLayout.JAVA_SHORT, DESC_BEGIN + 2L * sc, (short) SlabLayout.begin(sc));
            descriptor.set(ValueLayout.JAVA_SHORT, DESC_MAX_CAPACITY + 2L * sc, (short) SlabLayout.maxCapacity(sc));
        }
        LONG.setRelease(descriptor, DESC_SLAB_BYTES, (long) layout.slabCount() << SlabLayout.SHIFT);
        descriptor.set(ValueLayout.JAVA_LONG, DESC_PAGE_MAP, classes == null ? 0 : classes.rootAddress());
        INT.setRelease(descriptor, DESC_NSLABS, layout.slabCount()); // publishes the rest
        this.desc = descriptor.address();
        String registration = RseqLibrary.glibcOwnsRegistration()
                ? "glibc's rseq registration (__rseq_offset)"
                : "own " + RseqLibrary.OWN_LENGTH + "-byte rseq registration per thread (glibc's is off)";
        this.info = new FrontEndInfo(kind, layout.slabCount() + " slabs indexed by " + (mmCid ? "mm_cid" : "cpu_id")
                + ", " + mode + registration + ", membarrier-fenced drains, " + RseqLibrary.PROBES, reason, layout.slabCount());
    }

    @Override
    public FrontEndInfo info() {
        return info;
    }

    @Override
    public long nativeDescriptor() {
        return desc;
    }

    @Override
    public NativeFastPath.Flavour nativeFlavour() {
        return flavour;
    }

    @Override
    public long pop(int sizeClass) {
        try {
            return (long) RseqLibrary.POP.invokeExact(desc, sizeClass);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public boolean push(int sizeClass, long address) {
        try {
            return (int) RseqLibrary.PUSH.invokeExact(desc, sizeClass, address) != 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * The CPU (or mm_cid) the caller runs on now; registers the thread first in own-registration mode.
     * A thread that cannot register (someone else registered a different rseq area for it) stays
     * unregistered: its sections all miss and it is served by the slow path, correctly if slower. The
     * slow path asks this on every miss, so it is also where a slab stopped by an owner that died before
     * starting it again gets started.
     */
    @Override
    public int currentSlab() {
        int slab;
        try {
            slab = (int) RseqLibrary.CURRENT.invokeExact(indexField);
            if (slab < 0 && (int) RseqLibrary.REGISTER.invokeExact() == 0) {
                slab = (int) RseqLibrary.CURRENT.invokeExact(indexField);
            }
            // Unregistered, or CPUs appeared after start: every slab-naming call then just misses.
            slab = Math.clamp(slab, 0, layout.slabCount() - 1);
        } catch (Throwable t) {
            throw unexpected(t);
        }
        if (layout.isStopped(slab)) {
            restartIfAbandoned(slab);
        }
        return slab;
    }

    /**
     * Starts {@code slab} if it is stopped while nobody owns it: its last owner died (a
     * {@link StackOverflowError}) between its work and clearing the stop word, after releasing the lock.
     */
    private void restartIfAbandoned(int slab) {
        layout.owning(slab, 1, RESTART_IF_STOPPED, 0, 0);
    }

    @Override
    public int grow(int slab, int sizeClass, int by) {
        try {
            return (int) RseqLibrary.GROW.invokeExact(desc, sizeClass, by, slab);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int pushBatch(int slab, int sizeClass, long[] items, int from, int count) {
        try {
            return (int) RseqLibrary.PUSH_BATCH.invokeExact(desc, sizeClass,
                    MemorySegment.ofArray(items).asSlice(8L * from), count, slab);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public int popBatch(int slab, int sizeClass, long[] items, int from, int max) {
        try {
            return (int) RseqLibrary.POP_BATCH.invokeExact(desc, sizeClass,
                    MemorySegment.ofArray(items).asSlice(8L * from), Math.min(max, items.length - from), slab);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Owns the slab (one remote owner at a time), sets the stop word, then fences: from then on no section
     * on that slab can commit until the stop word is cleared again, after {@code work} and whatever it
     * throws. An overflow that kills the clearing leaves the slab stopped without owner, for
     * {@link #restartIfAbandoned}.
     */
    @Override
    public long whileStopped(int slab, SlabLayout.Work work, int sizeClass, long arg) {
        return layout.owning(slab, SlabLayout.WAIT, (owned, s, sc, a) -> {
            try {
                owned.stopFastPath(s);
                fence(s);
                stopped();
                return work.run(owned, s, sc, a);
            } finally {
                owned.startFastPath(s); // its release store publishes work's writes to the sections after
            }
        }, sizeClass, arg);
    }

    /** What a mode adds once the fence has aborted every section on the stopped slab. */
    void stopped() {
    }

    /**
     * Both bounds go to 0 (compliant sections check the slab count, overlay's the byte range) and so does
     * the page map's address (the free sections check it before reading the map), then every CPU is
     * fenced: no section is left in slab or page map memory, and every later one misses.
     */
    @Override
    public void close() {
        INT.setVolatile(descriptor, DESC_NSLABS, 0);
        LONG.setVolatile(descriptor, DESC_SLAB_BYTES, 0L);
        LONG.setVolatile(descriptor, DESC_PAGE_MAP, 0L);
        fence(-1);
    }

    /**
     * Aborts sections in flight on {@code slab}'s CPU; on every CPU in mm_cid mode (a cid has no fixed
     * CPU) or for -1. The kernel may fail an all-CPU fence with ENOMEM (a cpumask it could not allocate):
     * that is retried a few times before it counts as failed.
     */
    void fence(int slab) {
        int error = 0;
        for (int attempt = 0; attempt < FENCE_ATTEMPTS; attempt++) {
            try {
                error = mmCid || slab < 0 ? (int) RseqLibrary.FENCE_ALL.invokeExact() : (int) RseqLibrary.FENCE_CPU.invokeExact(slab);
            } catch (Throwable t) {
                throw unexpected(t);
            }
            if (error != ENOMEM && error != EAGAIN) {
                break;
            }
            Thread.yield();
        }
        if (error != 0) {
            throw new IllegalStateException("cpuslab: membarrier fence failed: errno " + error);
        }
    }

    /**
     * A downcall declares {@code Throwable}; what can really come out is the caller's own trouble
     * ({@link StackOverflowError}, {@link OutOfMemoryError}), which passes through as it is, or a bug.
     */
    static IllegalStateException unexpected(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("cpuslab: native rseq call failed", t);
    }
}
