package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.core.NativePageMap;
import io.cpuslab.core.SlabLayout;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The rseq front end in overlay mode: TCMalloc's cached-slab trick. Each thread caches its slab
 * region, tagged with bit 63, in the 8 bytes right below its rseq area, so the word's upper half is the
 * kernel's {@code cpu_id_start}; push and pop then read only that word (no {@code cpu_id}, no slab count,
 * no stop word). Correctness rests on the kernel rewriting {@code cpu_id_start} after every preemption,
 * before every signal handler and in every membarrier-RSEQ IPI, which clears the tag: Linux up to 6.18
 * and the legacy mode of the fixed 7.0.10+/7.1 kernels do; 6.19 and unfixed 7.0 do not. So this front
 * end exists only where {@link OverlayProbe} proved the behaviour out of process and cpuslab owns the
 * thread's 32-byte registration ({@code GLIBC_TUNABLES=glibc.pthread.rseq=0}); the provider enforces both.
 *
 * <p>Misses re-cache in the slow path ({@link #currentSlab()}), which refuses stopped slabs and closed
 * allocators. Core's stop/drain protocol is unchanged: the stop word plus a fence of the slab's CPU.
 * The fence interrupts the thread running there, whose word the kernel rewrites before it runs on;
 * every other thread cached on that CPU is switched out and gets the rewrite when it next runs. The
 * stopping thread's own word is dropped by {@link #whileStopped} itself (an all-CPU fence skips the caller).
 * The batch and grow sections are the compliant ones. Push and pop also check that the cached slab is
 * one of this allocator's, so a word cached for another allocator, or calls on a closed one, miss.
 * The word is per thread: two overlay allocators used in turn would keep evicting each other's, so one
 * open allocator per process may use overlay mode.
 *
 * <p>Overlay writes a field the rseq ABI declares read-only for user space: another library reading
 * {@code cpu_id_start} in the same thread sees a slab address instead of a CPU number (the conflict
 * that made the kernel developers call this trick an ABI violation).
 *
 * <pre>{@code
 * // JVM started with GLIBC_TUNABLES=glibc.pthread.rseq=0
 * OffHeapAllocator alloc = CpuSlab.builder()
 *         .frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY).build();
 * }</pre>
 */
final class OverlayFrontEnd extends RseqFrontEnd {
    /** Held by the one open overlay front end of this process, or by a closed one whose fence failed (see {@link #close}). */
    private static final AtomicBoolean IN_USE = new AtomicBoolean();

    /** Why a closed front end still holds {@link #IN_USE}: its close's failure (see {@link #close}); else null. */
    private static volatile String unfenced;

    /** Whether this instance holds {@link #IN_USE} (tests construct unchecked ones that do not). */
    private boolean owner;

    /** Unchecked: {@link #create} checks; tests that simulate refused kernels construct directly. */
    OverlayFrontEnd(SlabLayout layout, CpuSlab.Index index, String reason) {
        this(layout, index, reason, null);
    }

    /** @param classes the page map its free sections read, or null for none */
    OverlayFrontEnd(SlabLayout layout, CpuSlab.Index index, String reason, NativePageMap classes) {
        super(layout, index, reason, classes, FrontEndInfo.Kind.RSEQ_OVERLAY,
                "overlay mode (slab word cached over cpu_id_start, kernel probe passed), ");
    }

    /** Why overlay mode cannot run in this process now, or null. */
    static String refusal() {
        if (RseqLibrary.glibcOwnsRegistration()) {
            return "overlay mode needs cpuslab's own 32-byte rseq registration, but glibc registered rseq for this "
                    + "process: start the JVM with GLIBC_TUNABLES=glibc.pthread.rseq=0 in its environment";
        }
        OverlayProbe.Result probe = OverlayProbe.result();
        if (!probe.safe()) {
            return "the kernel probe refused overlay mode: " + probe.refusal();
        }
        return IN_USE.get() ? inUse() : null;
    }

    private static String inUse() {
        String failure = unfenced;
        return failure == null
                ? "another open allocator in this process uses overlay mode (the cached slab word is per thread); close it first"
                : "overlay mode stays taken in this process: an allocator that used it could not fence every CPU when it "
                        + "closed (" + failure + "), so threads may still hold its cached slab words";
    }

    /** An overlay front end, or {@link IllegalStateException} naming the {@link #refusal()}. */
    static OverlayFrontEnd create(SlabLayout layout, CpuSlab.Index index, String reason, NativePageMap classes) {
        String refusal = refusal();
        if (refusal != null) {
            throw new IllegalStateException("cpuslab: " + refusal);
        }
        if (!IN_USE.compareAndSet(false, true)) {
            throw new IllegalStateException("cpuslab: " + inUse());
        }
        OverlayFrontEnd frontEnd;
        try {
            frontEnd = new OverlayFrontEnd(layout, index, reason, classes);
        } catch (RuntimeException | Error e) {
            IN_USE.set(false);
            throw e;
        }
        frontEnd.owner = true;
        return frontEnd;
    }

    @Override
    public long pop(int sizeClass) {
        try {
            return (long) RseqLibrary.OVERLAY_POP.invokeExact(desc, sizeClass);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    @Override
    public boolean push(int sizeClass, long address) {
        try {
            return (int) RseqLibrary.OVERLAY_PUSH.invokeExact(desc, sizeClass, address) != 0;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Re-caches the caller's slab (the miss that brought us here may have been an invalidated word) and
     * returns it. If that fails, the compliant answer registers the thread if it was not yet and serves
     * as the hint, and caching is tried once more (it still fails while the slab is stopped).
     */
    @Override
    public int currentSlab() {
        int slab = cache();
        if (slab < 0) {
            int hint = super.currentSlab();
            slab = cache();
            return slab >= 0 ? slab : hint;
        }
        return slab;
    }

    private int cache() {
        try {
            return (int) RseqLibrary.OVERLAY_CACHE.invokeExact(desc);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * After the compliant stop (lock, stop word, fence), this thread's own word: the fence skips the
     * caller when it covers every CPU (mm_cid index) or when only one CPU is online, so the stopping
     * thread could otherwise still reach the slab it stopped.
     */
    @Override
    void stopped() {
        uncache();
    }

    /**
     * The compliant close (bounds to 0, which every overlay push and pop checks, then a fence of every
     * CPU), then this thread's own word; then overlay mode is free for another allocator.
     *
     * <p>If the compliant close throws (its fence failed), overlay mode stays taken. The bounds are 0, so
     * no section that starts from now on takes this allocator's cached words; but only the fence ends the
     * sections that read the bounds before, and clears the tag of the words cached by threads running now.
     * Such a word stays tagged until its thread is next switched out, however long that takes, and the
     * range check of a later overlay allocator with slabs mapped where these are would take it: the
     * thread would then push and pop in another CPU's slab, or in one that core has stopped. The allocator
     * leaves these slabs mapped when this close fails, but this front end cannot know that of its caller,
     * and keeping the slot costs no more than later allocators running compliant. A later close that
     * fences gives the slot back; the allocator's close is not repeated, so through it overlay mode stays
     * taken for the rest of the process, and refusals say why.
     */
    @Override
    public void close() {
        try {
            super.close();
        } catch (RuntimeException | Error e) {
            if (owner) {
                unfenced = Objects.requireNonNullElse(e.getMessage(), e.toString());
            }
            throw e;
        }
        uncache();
        if (owner) {
            owner = false;
            unfenced = null;
            IN_USE.set(false);
        }
    }

    private static void uncache() {
        try {
            RseqLibrary.OVERLAY_UNCACHE.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }
}
