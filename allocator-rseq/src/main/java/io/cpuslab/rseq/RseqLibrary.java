package io.cpuslab.rseq;

import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.SizeClasses;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The native rseq library: loaded once per JVM from the jar ({@code META-INF/native/linux-x86_64/}),
 * initialised, and probed for working aborts. Holds the downcall handles in static finals so the JIT
 * binds them as constants.
 *
 * <p>Critical sections (malloc and free, single and bulk; push, pop, grow, batches; overlay mode's
 * push, pop and re-cache) are {@code critical} downcalls: they are a few dozen instructions (per block
 * for the bulk calls), never block and never call back, so the JVM skips its thread-state transition.
 * The batch and bulk calls pass Java {@code long[]} arrays directly ({@code critical(true)} allows heap
 * segments); the GC cannot move them during the call, and callers bound the count so that no call
 * holds up a safepoint for long. Registration, fences and the probe make system calls and
 * are ordinary downcalls.
 *
 * <p>System properties: {@code cpuslab.rseq.library=PATH} loads that file instead of the bundled one
 * (tests use a missing path); {@code cpuslab.rseq.selfCheck=true} loads the self-checking build, which
 * kills the process if a commit ever lands on another CPU's slab than the one its section began on; it
 * exists only in the tests' class path, never in the shipped jar. The bundled library is copied to
 * {@code -Dcpuslab.native.dir} (default {@code java.io.tmpdir}), loaded and deleted ({@link NativeFiles}).
 */
final class RseqLibrary {
    private static final String LIBRARY_PROPERTY = "cpuslab.rseq.library";
    static final int STATUS_OK = 1;
    static final int STATUS_GLIBC_OWNS = 1 << 1;
    static final int STATUS_MM_CID = 1 << 2;
    static final int STATUS_NO_RSEQ = 1 << 8;
    static final int STATUS_NO_MEMBARRIER = 1 << 9;
    private static final int STATUS_REGISTER_FAILED = 1 << 10;
    private static final int STATUS_BAD_TLS = 1 << 11;
    static final int PROBE_ABORTED = 0;
    private static final int PROBE_OBSERVED = 1;
    private static final int PROBE_INCONCLUSIVE = 2;
    static final int PROBE_SKIPPED = 3;
    /** The codes above by their names in the library, for {@link LibraryContract}. */
    static final Map<String, Long> CODES = Map.ofEntries(Map.entry("STATUS_OK", (long) STATUS_OK),
            Map.entry("STATUS_GLIBC_OWNS", (long) STATUS_GLIBC_OWNS), Map.entry("STATUS_MM_CID", (long) STATUS_MM_CID),
            Map.entry("STATUS_NO_RSEQ", (long) STATUS_NO_RSEQ), Map.entry("STATUS_NO_MEMBARRIER", (long) STATUS_NO_MEMBARRIER),
            Map.entry("STATUS_REGISTER_FAILED", (long) STATUS_REGISTER_FAILED), Map.entry("STATUS_BAD_TLS", (long) STATUS_BAD_TLS),
            Map.entry("PROBE_ABORTED", (long) PROBE_ABORTED), Map.entry("PROBE_OBSERVED", (long) PROBE_OBSERVED),
            Map.entry("PROBE_INCONCLUSIVE", (long) PROBE_INCONCLUSIVE), Map.entry("PROBE_SKIPPED", (long) PROBE_SKIPPED));

    /** Null when the library is loaded, initialised and its probe passed; else why not. */
    static final String UNAVAILABLE;
    /** STATUS_* bits from initialisation (0 if it never ran). */
    static final int STATUS;
    /** What the abort probes proved, for reports. */
    static final String PROBES;
    /** Bytes of our own per-thread registration, 0 when glibc's is reused. */
    static final int OWN_LENGTH;
    /** The loaded library's symbols (null if it did not load): its file may be gone, so look here. */
    static final SymbolLookup LOOKUP;

    /** The fast path's malloc and free, one entry per flavour. */
    static final NativeFastPath.Flavoured MALLOC;
    static final NativeFastPath.Flavoured FREE;
    static final MethodHandle MALLOC_BULK;
    static final MethodHandle FREE_BULK;
    static final MethodHandle POP;
    static final MethodHandle PUSH;
    static final MethodHandle OVERLAY_POP;
    static final MethodHandle OVERLAY_PUSH;
    static final MethodHandle OVERLAY_CACHE;
    static final MethodHandle OVERLAY_UNCACHE;
    static final MethodHandle PUSH_BATCH;
    static final MethodHandle POP_BATCH;
    static final MethodHandle GROW;
    static final MethodHandle CURRENT;
    static final MethodHandle REGISTER;
    static final MethodHandle FENCE_CPU;
    static final MethodHandle FENCE_ALL;
    static final MethodHandle DESCRIPTORS;
    static final MethodHandle SIGNATURE;

    static {
        String why = null;
        int status = 0, ownLength = 0, fenceProbe = -1;
        SymbolLookup loaded = null;
        NativeFastPath.Flavoured malloc = null, free = null;
        MethodHandle mallocBulk = null, freeBulk = null, pop = null, push = null, overlayPop = null, overlayPush = null, overlayCache = null,
                overlayUncache = null, pushBatch = null, popBatch = null, grow = null, current = null,
                register = null, fenceCpu = null, fenceAll = null, descriptors = null, signature = null;
        try {
            SymbolLookup lib = load();
            loaded = lib;
            Linker linker = Linker.nativeLinker();
            Linker.Option fast = Linker.Option.critical(false);
            Linker.Option heap = Linker.Option.critical(true);
            FunctionDescriptor popDescriptor = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_INT);
            FunctionDescriptor pushDescriptor = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG);
            // First: a library built from another cpuslab_rseq.h is refused by name, before any entry is bound.
            why = LibraryContract.mismatch(constants(linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_constants"),
                    FunctionDescriptor.of(ADDRESS, ADDRESS))));
            if (why == null) {
                malloc = flavoured(linker, lib, "cpuslab_rseq_malloc_", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), fast);
                free = flavoured(linker, lib, "cpuslab_rseq_free_", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), fast);
                mallocBulk = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_malloc_bulk"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT), heap);
                freeBulk = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_free_bulk"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT), heap);
                pop = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_pop"), popDescriptor, fast);
                push = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_push"), pushDescriptor, fast);
                overlayPop = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_overlay_pop"), popDescriptor, fast);
                overlayPush = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_overlay_push"), pushDescriptor, fast);
                overlayCache = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_overlay_cache"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG), fast);
                overlayUncache = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_overlay_uncache"), FunctionDescriptor.ofVoid(), fast);
                FunctionDescriptor batch = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
                pushBatch = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_push_batch"), batch, heap);
                popBatch = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_pop_batch"), batch, heap);
                grow = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_grow"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT), fast);
                current = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_current"), FunctionDescriptor.of(JAVA_INT, JAVA_INT), fast);
                register = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_register"), FunctionDescriptor.of(JAVA_INT));
                fenceCpu = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_fence_cpu"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
                fenceAll = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_fence_all"), FunctionDescriptor.of(JAVA_INT));
                descriptors = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_descriptors"), FunctionDescriptor.of(ADDRESS, ADDRESS));
                signature = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_signature"), FunctionDescriptor.of(JAVA_INT));
            }
            if (why == null) {
                MethodHandle init = linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_init"), FunctionDescriptor.of(JAVA_INT));
                status = (int) init.invokeExact();
                why = statusProblem(status);
            }
            if (why == null) {
                why = installClasses(linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_set_classes"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT)));
            }
            if (why == null) {
                ownLength = (int) linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_own_length"),
                        FunctionDescriptor.of(JAVA_INT)).invokeExact();
                int probe = (int) linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_probe_abort"),
                        FunctionDescriptor.of(JAVA_INT)).invokeExact();
                why = probeProblem(probe);
                if (why == null) {
                    fenceProbe = (int) linker.downcallHandle(lib.findOrThrow("cpuslab_rseq_probe_fence_abort"),
                            FunctionDescriptor.of(JAVA_INT)).invokeExact();
                    why = fenceProbeProblem(fenceProbe);
                }
            }
        } catch (Throwable t) {
            why = "cannot load the native library: " + t + (String.valueOf(t.getMessage()).contains("static TLS")
                    ? " (the library needs 64 bytes of static TLS: raise GLIBC_TUNABLES=glibc.rtld.optional_static_tls)" : "");
        }
        UNAVAILABLE = why;
        STATUS = status;
        PROBES = fenceProbe == PROBE_SKIPPED
                ? "preemption abort proven; IPI abort not probed (one CPU)" : "preemption and IPI aborts proven";
        OWN_LENGTH = ownLength;
        LOOKUP = loaded;
        MALLOC = malloc;
        FREE = free;
        MALLOC_BULK = mallocBulk;
        FREE_BULK = freeBulk;
        POP = pop;
        PUSH = push;
        OVERLAY_POP = overlayPop;
        OVERLAY_PUSH = overlayPush;
        OVERLAY_CACHE = overlayCache;
        OVERLAY_UNCACHE = overlayUncache;
        PUSH_BATCH = pushBatch;
        POP_BATCH = popBatch;
        GROW = grow;
        CURRENT = current;
        REGISTER = register;
        FENCE_CPU = fenceCpu;
        FENCE_ALL = fenceAll;
        DESCRIPTORS = descriptors;
        SIGNATURE = signature;
    }

    private RseqLibrary() {
    }

    /** {@code prefix} + cpu_id, mm_cid and overlay: the fast path's entries, one per flavour. */
    private static NativeFastPath.Flavoured flavoured(Linker linker, SymbolLookup lib, String prefix, FunctionDescriptor type,
                                                      Linker.Option option) {
        return new NativeFastPath.Flavoured(linker.downcallHandle(lib.findOrThrow(prefix + "cpu_id"), type, option),
                linker.downcallHandle(lib.findOrThrow(prefix + "mm_cid"), type, option),
                linker.downcallHandle(lib.findOrThrow(prefix + "overlay"), type, option));
    }

    /**
     * Loads the library named by the property, or the bundled build: extracted, loaded and deleted again
     * ({@link NativeFiles}), so no copy outlives the load.
     */
    private static SymbolLookup load() throws IOException {
        String explicit = System.getProperty(LIBRARY_PROPERTY);
        if (explicit != null) {
            Path path = Path.of(explicit);
            if (!Files.isReadable(path)) {
                throw new IOException("no readable library at " + LIBRARY_PROPERTY + "=" + explicit);
            }
            return SymbolLookup.libraryLookup(path, Arena.global());
        }
        Path copy = NativeFiles.extract(bundledName());
        try {
            return SymbolLookup.libraryLookup(copy, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage() + NativeFiles.noexecHint(copy), e);
        } finally {
            NativeFiles.delete(copy);
        }
    }

    /** The bundled library this JVM loads: the self-checking build under {@code cpuslab.rseq.selfCheck}. */
    static String bundledName() {
        return Boolean.getBoolean("cpuslab.rseq.selfCheck") ? "libcpuslab_rseq_check.so" : "libcpuslab_rseq.so";
    }

    /** The library's shared constants by name: an array of {const char *name; int64_t value}. */
    static Map<String, Long> constants(MethodHandle table) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment entries = (MemorySegment) table.invokeExact(count);
            int n = count.get(JAVA_INT, 0);
            entries = entries.reinterpret(16L * n);
            Map<String, Long> values = new HashMap<>();
            for (int i = 0; i < n; i++) {
                values.put(entries.get(ADDRESS, 16L * i).reinterpret(Long.MAX_VALUE).getString(0), entries.get(JAVA_LONG, 16L * i + 8));
            }
            return values;
        }
    }

    /**
     * Gives the library the size-class tables its malloc and free sections read (one source: SizeClasses);
     * null, or why the library refused them (built with other constants than this jar's classes).
     */
    private static String installClasses(MethodHandle setClasses) throws Throwable {
        byte[] lookup = SizeClasses.lookupTable();
        int[] sizes = new int[SizeClasses.COUNT];
        int[] objects = new int[SizeClasses.COUNT];
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            sizes[sc] = SizeClasses.size(sc);
            objects[sc] = SizeClasses.objectsPerSpan(sc);
        }
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) setClasses.invokeExact(arena.allocateFrom(ValueLayout.JAVA_BYTE, lookup), lookup.length,
                    arena.allocateFrom(JAVA_INT, sizes), arena.allocateFrom(JAVA_INT, objects), SizeClasses.COUNT);
            return rc == 0 ? null : "the native library refused the size-class tables (" + lookup.length + " lookup entries, "
                    + SizeClasses.COUNT + " classes): it was built with other constants than this jar";
        }
    }

    static String statusProblem(int status) {
        if ((status & STATUS_NO_RSEQ) != 0) {
            return "the kernel has no rseq system call (or a seccomp filter blocks it)";
        }
        if ((status & STATUS_BAD_TLS) != 0) {
            return "the own rseq area is not 64-byte aligned in this process's TLS";
        }
        if ((status & STATUS_REGISTER_FAILED) != 0) {
            return "glibc did not register rseq and our own registration failed";
        }
        if ((status & STATUS_NO_MEMBARRIER) != 0) {
            return "membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ) failed (Linux >= 5.10 needed to fence drains)";
        }
        return (status & STATUS_OK) != 0 ? null : "initialisation failed (status 0x" + Integer.toHexString(status) + ")";
    }

    static String probeProblem(int probe) {
        if (probe == PROBE_ABORTED) {
            return null;
        }
        if (probe == PROBE_OBSERVED) {
            return "abort probe failed: this kernel resumed a preempted critical section instead of aborting it "
                    + "(the Linux 6.19-7.0.13 arm64 bug); rseq is unsafe here";
        }
        return "abort probe inconclusive (result " + probe + "): could not prove that critical sections abort";
    }

    /**
     * The membarrier probe: drains rely on a fence aborting a section that runs on the fenced CPU. With
     * one CPU there is nothing to fence remotely (every other thread is preempted, which the first probe
     * covers), so a skipped probe is no obstacle.
     */
    static String fenceProbeProblem(int probe) {
        if (probe == PROBE_ABORTED || probe == PROBE_SKIPPED) {
            return null;
        }
        if (probe == PROBE_OBSERVED) {
            return "abort probe failed: a membarrier-RSEQ fence did not abort a critical section running on the "
                    + "fenced CPU; drains would be unsafe";
        }
        return "membarrier abort probe inconclusive (result " + probe + ")";
    }

    static boolean glibcOwnsRegistration() {
        return (STATUS & STATUS_GLIBC_OWNS) != 0;
    }

    static boolean mmCidAvailable() {
        return (STATUS & STATUS_MM_CID) != 0;
    }

    /** The __rseq_cs descriptors as loaded (relocated), 32 bytes each; for the library checks. */
    static MemorySegment descriptors() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment first = (MemorySegment) DESCRIPTORS.invokeExact(count);
            return first.reinterpret(32L * count.get(JAVA_INT, 0));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static int signature() {
        try {
            return (int) SIGNATURE.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
