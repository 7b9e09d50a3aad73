package io.cpuslab.core;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.ServiceLoader;

/**
 * The one-call fast path: {@code malloc}, {@code free} and their bulk forms, each a single critical
 * downcall that does the whole hit path natively (class lookup and pop; page-map lookup, block check and
 * push), as TCMalloc's fast path is one inlined function. A result of 0 means "take the Java slow path",
 * which then decides and reports exactly as it would without the fast path.
 *
 * <p>The handles come once per JVM from the front-end module that has them
 * ({@link SlabFrontEndProvider#nativeFastPath()}) and sit in a static final record, so the JIT binds
 * them as constants and inlines the downcalls into the allocator's {@code malloc} and {@code free}: no
 * interface dispatch and no per-allocator indirection between the caller and the native code. Each call
 * takes the allocator's descriptor (its address) and its {@link Flavour}: malloc and free have one native
 * entry per flavour, so the way a section finds the caller's slab is decided once, when the allocator is
 * made, and not again inside every call.
 *
 * <pre>{@code
 * long p = NativeFastPath.malloc(Flavour.CPU_ID, descriptor, 64);   // 0: slow path
 * if (!NativeFastPath.free(Flavour.CPU_ID, descriptor, p)) { ... }  // false: slow path
 * }</pre>
 */
public final class NativeFastPath {
    private static final Entries ENTRIES = load();

    /**
     * How a front end's sections find the caller's slab: indexed by the CPU number ({@code cpu_id}) or by
     * the kernel's concurrency ID ({@code mm_cid}) in compliant mode, or through overlay mode's cached slab
     * word. A front end's descriptor is made for exactly one; calling another flavour's entry on it would
     * serve the wrong slab (the self-checking build traps when that happens).
     */
    public enum Flavour { CPU_ID, MM_CID, OVERLAY }

    /**
     * One entry point per {@link Flavour}, all of the same type.
     *
     * <pre>{@code
     * new Flavoured(cpuIdHandle, mmCidHandle, overlayHandle);
     * }</pre>
     */
    public record Flavoured(MethodHandle cpuId, MethodHandle mmCid, MethodHandle overlay) {
        void check(MethodType type, String name) {
            Entries.check(cpuId, type, name + " (cpu_id)");
            Entries.check(mmCid, type, name + " (mm_cid)");
            Entries.check(overlay, type, name + " (overlay)");
        }
    }

    /**
     * The native entry points, with these types:
     *
     * @param malloc     {@code (long descriptor, long size) long}: the block, or 0; per flavour
     * @param free       {@code (long descriptor, long block) int}: 1 when freed, 0 for the slow path; per flavour
     * @param mallocBulk {@code (long descriptor, long size, MemorySegment out, int n) int}: blocks written to
     *                   {@code out} (a heap segment of a {@code long[]}), 0 for the slow path
     * @param freeBulk   {@code (long descriptor, MemorySegment blocks, int n) int}: how many from the start
     *                   were freed; the next one is the slow path's
     */
    public record Entries(Flavoured malloc, Flavoured free, MethodHandle mallocBulk, MethodHandle freeBulk) {
        private static final MethodType MALLOC = MethodType.methodType(long.class, long.class, long.class);
        private static final MethodType FREE = MethodType.methodType(int.class, long.class, long.class);
        private static final MethodType MALLOC_BULK = MethodType.methodType(int.class, long.class, long.class, MemorySegment.class, int.class);
        private static final MethodType FREE_BULK = MethodType.methodType(int.class, long.class, MemorySegment.class, int.class);

        public Entries {
            malloc.check(MALLOC, "malloc");
            free.check(FREE, "free");
            check(mallocBulk, MALLOC_BULK, "mallocBulk");
            check(freeBulk, FREE_BULK, "freeBulk");
        }

        private static void check(MethodHandle handle, MethodType type, String name) {
            if (!handle.type().equals(type)) {
                throw new IllegalArgumentException("native fast path " + name + " has type " + handle.type() + ", needs " + type);
            }
        }
    }

    private NativeFastPath() {
    }

    private static Entries load() {
        return ServiceLoader.load(SlabFrontEndProvider.class, NativeFastPath.class.getClassLoader()).stream()
                .map(provider -> provider.get().nativeFastPath())
                .filter(entries -> entries != null)
                .findFirst().orElse(null);
    }

    /** Whether a front-end module brought the native entry points (an allocator may still not use them). */
    static boolean available() {
        return ENTRIES != null;
    }

    // Each branch names a constant handle, so the JIT inlines the downcall it takes; an allocator always
    // takes the same branch, which the JIT's profile sees.
    static long malloc(Flavour flavour, long descriptor, long size) {
        try {
            if (flavour == Flavour.CPU_ID) {
                return (long) ENTRIES.malloc().cpuId().invokeExact(descriptor, size);
            }
            if (flavour == Flavour.MM_CID) {
                return (long) ENTRIES.malloc().mmCid().invokeExact(descriptor, size);
            }
            return (long) ENTRIES.malloc().overlay().invokeExact(descriptor, size);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static boolean free(Flavour flavour, long descriptor, long block) {
        try {
            if (flavour == Flavour.CPU_ID) {
                return (int) ENTRIES.free().cpuId().invokeExact(descriptor, block) != 0;
            }
            if (flavour == Flavour.MM_CID) {
                return (int) ENTRIES.free().mmCid().invokeExact(descriptor, block) != 0;
            }
            return (int) ENTRIES.free().overlay().invokeExact(descriptor, block) != 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Fills {@code out[from..from+k)} with blocks of {@code size} and returns k, 0 for the slow path. */
    static int mallocBulk(long descriptor, long size, long[] out, int from, int count) {
        try {
            return (int) ENTRIES.mallocBulk().invokeExact(descriptor, size, MemorySegment.ofArray(out).asSlice(8L * from), count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Frees {@code blocks[from..from+k)} and returns k; {@code blocks[from+k]} is the slow path's. */
    static int freeBulk(long descriptor, long[] blocks, int from, int count) {
        try {
            return (int) ENTRIES.freeBulk().invokeExact(descriptor, MemorySegment.ofArray(blocks).asSlice(8L * from), count);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * A downcall declares {@code Throwable}; what can really come out is the caller's own trouble
     * ({@link StackOverflowError}, {@link OutOfMemoryError}), which passes through as it is, or a bug.
     */
    private static IllegalStateException unexpected(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("cpuslab: native fast path call failed", t);
    }
}
