package io.cpuslab.rseq;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The test hooks only the self-checking library ({@code -Dcpuslab.rseq.selfCheck=true}) exports: the
 * injected delay before every commit, the caller's overlay slab word and a way to put an old one back
 * (to simulate a kernel that misses an invalidation), and the caller's struct rseq (as another rseq
 * user would read it).
 */
final class SelfCheckHooks {
    /** Bit 63 of the slab word: set while the cached slab is valid. */
    static final long OVERLAY_TAG = 1L << 63;

    private static final MethodHandle INJECT_LOOPS;
    private static final MethodHandle SLAB_WORD;
    private static final MethodHandle RESTORE_SLAB_WORD;
    private static final MethodHandle AREA;

    static {
        SymbolLookup lookup = RseqLibrary.LOOKUP;
        Linker linker = Linker.nativeLinker();
        INJECT_LOOPS = linker.downcallHandle(find(lookup, "cpuslab_rseq_set_inject_loops"), FunctionDescriptor.ofVoid(JAVA_INT));
        SLAB_WORD = linker.downcallHandle(find(lookup, "cpuslab_rseq_test_slab_word"), FunctionDescriptor.of(JAVA_LONG));
        RESTORE_SLAB_WORD = linker.downcallHandle(find(lookup, "cpuslab_rseq_test_restore_slab_word"),
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        AREA = linker.downcallHandle(find(lookup, "cpuslab_rseq_test_area"), FunctionDescriptor.of(ADDRESS));
    }

    private static MemorySegment find(SymbolLookup lookup, String name) {
        return lookup.find(name).orElseThrow(() -> new AssertionError(
                name + " missing: the tests need the self-checking library (-Dcpuslab.rseq.selfCheck=true)"));
    }

    private SelfCheckHooks() {
    }

    static void injectLoops(int loops) {
        try {
            INJECT_LOOPS.invokeExact(loops);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The calling thread's overlay slab word (own registration only). */
    static long slabWord() {
        try {
            return (long) SLAB_WORD.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Puts a slab word back, as Linux 6.19 would have left it: it rewrote cpu_id_start only when the CPU
     * changed. Does nothing (returns false) unless the caller runs on the word's CPU, checked in a
     * critical section, so the self-check never sees a commit into another CPU's slab.
     */
    static boolean restoreSlabWord(RseqFrontEnd frontEnd, long word) {
        try {
            return (int) RESTORE_SLAB_WORD.invokeExact(frontEnd.desc, word) != 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The calling thread's 32-byte struct rseq. */
    static MemorySegment area() {
        try {
            return ((MemorySegment) AREA.invokeExact()).reinterpret(32);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
