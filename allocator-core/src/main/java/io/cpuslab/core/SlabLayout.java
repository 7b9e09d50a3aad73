package io.cpuslab.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The per-CPU slab layout in off-heap memory, shared by every front end: one region of
 * {@code 1 << SHIFT} bytes per slab (per CPU for rseq, per shard for the locked front end).
 *
 * <pre>
 * region(slab) = base + (slab &lt;&lt; SHIFT)
 * +0                 int   stop word: non-zero while rseq sections must not commit (remote work)
 * +4                 int   class hint of the rseq free sections (the class of a recent free; any value is safe)
 * +8 + 4 * sc        int   header of size class sc: bits 0..15 current, bits 16..31 end
 * +8 * begin(sc) ... long  object addresses of class sc, LIFO: slots [begin, current) are filled,
 *                          [current, end) are capacity not in use
 * </pre>
 *
 * <p>{@code current} and {@code end} are word indexes from the region start, as in TCMalloc's
 * {@code TcmallocSlab}; {@code begin(sc)} is the same for every slab and not stored in the region.
 * A header of zero means "not populated": {@code current = end = 0} reads as empty (0 is below every
 * begin) and full (current == end) at once, so fresh zero pages need no initialisation, and a drained
 * slab can hand its pages back to the OS. Capacity ({@code end - begin}) starts at 0 and grows on
 * demand within the per-slab byte budget, up to {@link #maxCapacity(int)}.
 *
 * <p>All operations here except the racy readers ({@link #length}, {@link #capacity}) require the
 * caller to own the slab exclusively: the locked front end owns it through {@link #owning}; remote work
 * owns it too and, for rseq, sets the stop word and fences. The lock taken there with a volatile CAS and
 * given up with a release store orders the plain header and slot accesses in between.
 *
 * <p>Every operation changes a class by one final write of its header, after whatever it wrote into
 * slots: a thread that dies in between (a {@link StackOverflowError} can be thrown at any call) leaves
 * the slab as it was, never half changed.
 */
public final class SlabLayout {
    /** Bytes per slab region: 256 KiB, TCMalloc's largest per-CPU shift. */
    public static final int SHIFT = 18;
    public static final long SLAB_BYTES = 1L << SHIFT;
    public static final int STOP_OFFSET = 0;
    /** The rseq free sections' class hint: only native code reads and writes it. */
    public static final int HINT_OFFSET = 4;
    public static final int HEADER_OFFSET = 8;
    /** First word of the slot arrays: right after the headers. */
    private static final int FIRST_SLOT_WORD = (HEADER_OFFSET + 4 * SizeClasses.COUNT + 7) / 8;
    /** Depth for the hottest small classes (8..176 B), TCMalloc's kSmallObjectDepth (2000) rounded up. */
    private static final int SMALL_OBJECT_DEPTH = 2048;
    private static final int SMALL_OBJECT_CLASSES = 10;
    /** Depth for every other class, TCMalloc's kLargeObjectDepth. */
    private static final int LARGE_OBJECT_DEPTH = 144;
    /** The first pages keep the stop word and headers; only slot pages behind them are released. */
    static final long RETAINED_BYTES = 64 * 1024;

    // The slab's words through their var handles, not MemorySegment.get and set: one call level less
    // under the locked front end's push and pop (see owning).
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final int[] BEGIN = new int[SizeClasses.COUNT];
    private static final int[] MAX_CAPACITY = new int[SizeClasses.COUNT];

    static {
        int word = FIRST_SLOT_WORD;
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            BEGIN[sc] = word;
            MAX_CAPACITY[sc] = sc <= SMALL_OBJECT_CLASSES ? SMALL_OBJECT_DEPTH : LARGE_OBJECT_DEPTH;
            word += MAX_CAPACITY[sc];
        }
        if ((long) word * 8 > SLAB_BYTES || word > 0xFFFF) {
            throw new ExceptionInInitializerError("slab layout needs " + word * 8 + " bytes, has " + SLAB_BYTES);
        }
    }

    private final MemorySegment memory;
    private final int slabCount;
    private final SlabLock[] locks;

    /**
     * @param memory the slab regions, {@code slabCount << SHIFT} bytes, zero-filled, aligned to
     *               {@link #SLAB_BYTES}; a view whose scope ends when the allocator closes
     */
    public SlabLayout(MemorySegment memory, int slabCount) {
        if (memory.byteSize() != (long) slabCount << SHIFT) {
            throw new IllegalArgumentException("slab memory is " + memory.byteSize() + " bytes, needs " + ((long) slabCount << SHIFT));
        }
        this.memory = memory;
        this.slabCount = slabCount;
        this.locks = new SlabLock[slabCount];
        for (int slab = 0; slab < slabCount; slab++) {
            locks[slab] = new SlabLock();
        }
    }

    public int slabCount() {
        return slabCount;
    }

    /** Address of the first slab region (native front ends compute regions from it). */
    public long address() {
        return memory.address();
    }

    /** Word index of the first slot of class {@code sc}, the same in every slab. */
    public static int begin(int sc) {
        return BEGIN[sc];
    }

    /** Most objects class {@code sc} can cache in one slab. */
    public static int maxCapacity(int sc) {
        return MAX_CAPACITY[sc];
    }

    private static long region(int slab) {
        return (long) slab << SHIFT;
    }

    private static long header(int slab, int sc) {
        return region(slab) + HEADER_OFFSET + 4L * sc;
    }

    // ---- ownership and the stop word ------------------------------------------------------------

    /**
     * Work the owner of a slab does with it, given a size class and one more argument as its caller
     * passes them (so hot callers can keep their work in a constant and allocate nothing). It answers an
     * address, a count or a flag, never {@link #NOT_OWNED}.
     */
    @FunctionalInterface
    public interface Work {
        long run(SlabLayout layout, int slab, int sizeClass, long arg);
    }

    /** {@link #pop}, as an owner's work: answers the object or 0. */
    public static final Work POP = (owned, slab, sc, unused) -> owned.pop(slab, sc);
    /** {@link #push} of the address {@code arg}, as an owner's work: answers 1 if it was pushed, else 0. */
    public static final Work PUSH = (owned, slab, sc, address) -> owned.push(slab, sc, address) ? 1 : 0;

    /** What {@link #owning} answers when it could not have the slab in the attempts it was given. */
    public static final long NOT_OWNED = -1;
    /** For {@link #owning}'s attempts: wait until the slab is free, spinning and then yielding, never parking. */
    public static final int WAIT = 0;

    /**
     * Runs {@code work} as the one owner of {@code slab} and answers what it answered, or
     * {@link #NOT_OWNED} if the slab was held by someone else for {@code attempts} tries (1 or more; with
     * {@link #WAIT}, never) or is {@link #ownForGood owned for good}. The only way to own a slab: the
     * lock it takes is always given back, whatever {@code work} throws and even when the thread's stack
     * runs out ({@link SlabLock} says how).
     * <pre>{@code
     * long p = layout.owning(slab, 1, SlabLayout.POP, sizeClass, 0);
     * if (p == SlabLayout.NOT_OWNED) { ... } // busy: try another slab
     * int grown = (int) layout.owning(slab, SlabLayout.WAIT, (owned, s, sc, by) -> owned.grow(s, sc, (int) by), sizeClass, 8);
     * }</pre>
     * For an rseq front end, owning a slab is not enough to change it: its sections take no lock, so the
     * owner also stops them ({@link SlabFrontEnd#whileStopped}).
     */
    public long owning(int slab, int attempts, Work work, int sizeClass, long arg) {
        if (attempts < 0) {
            throw new IllegalArgumentException("attempts must be WAIT or at least 1: " + attempts);
        }
        SlabLock lock = locks[slab];
        if (!lock.acquire(attempts)) {
            return NOT_OWNED;
        }
        // From the swap on, no call until the try: the release below is certain (SlabLock).
        try {
            // POP and PUSH, the locked front end's fast path, run here without their lambda's two frames:
            // C2 inlines only MaxInlineLevel (15) calls deep, and the memory accesses under pop and push take
            // most of that; two frames more and they become calls. With a constant work this folds away.
            if (work == POP) {
                return pop(slab, sizeClass);
            } else if (work == PUSH) {
                return push(slab, sizeClass, arg) ? 1 : 0;
            }
            return work.run(this, slab, sizeClass, arg);
        } finally {
            try {
                SlabLock.HELD.setRelease(lock, 0);
            } catch (StackOverflowError | LinkageError e) {
                lock.held = 0; // the call died at an entry, before its store: the store that cannot fail
            }
        }
    }

    /**
     * Owns {@code slab} for good, when its allocator closes, once its owner (if any) gave it back: every
     * later {@link #owning} of it answers {@link #NOT_OWNED} at once, also with {@link #WAIT}.
     */
    public void ownForGood(int slab) {
        locks[slab].close();
    }

    /** Sets the stop word (owner only): from now on no rseq section on the slab commits. */
    public void stopFastPath(int slab) {
        INT.setVolatile(memory, region(slab) + STOP_OFFSET, 1);
    }

    /** Clears the stop word (owner only); the owner's writes before are visible to the sections after. */
    public void startFastPath(int slab) {
        INT.setRelease(memory, region(slab) + STOP_OFFSET, 0);
    }

    // ---- exclusive operations (caller owns the slab) -----------------------------------------------

    /** Pops the most recently pushed object of class {@code sc}, or returns 0 when there is none. */
    public long pop(int slab, int sc) {
        long header = header(slab, sc);
        int current = (short) SHORT.get(memory, header) & 0xFFFF;
        if (current <= BEGIN[sc]) {
            return 0;
        }
        current--;
        long item = (long) LONG.get(memory, region(slab) + 8L * current);
        SHORT.set(memory, header, (short) current);
        return item;
    }

    /** Pushes {@code item} if class {@code sc} has capacity left. */
    public boolean push(int slab, int sc, long item) {
        long header = header(slab, sc);
        int word = (int) INT.get(memory, header);
        int current = word & 0xFFFF;
        if (current >= word >>> 16) {
            return false;
        }
        LONG.set(memory, region(slab) + 8L * current, item);
        SHORT.set(memory, header, (short) (current + 1));
        return true;
    }

    /** Pops up to {@code max} objects into {@code out[from..)}, most recent first; returns how many. */
    public int popBatch(int slab, int sc, long[] out, int from, int max) {
        long header = header(slab, sc);
        int current = (short) SHORT.get(memory, header) & 0xFFFF;
        int n = Math.max(0, Math.min(max, current - BEGIN[sc]));
        long slots = region(slab);
        for (int i = 0; i < n; i++) {
            out[from + i] = (long) LONG.get(memory, slots + 8L * --current);
        }
        if (n > 0) {
            SHORT.set(memory, header, (short) current);
        }
        return n;
    }

    /** Pushes {@code in[from..from+n)} for as many as capacity allows, in order; returns how many. */
    public int pushBatch(int slab, int sc, long[] in, int from, int count) {
        long header = header(slab, sc);
        int word = (int) INT.get(memory, header);
        int current = word & 0xFFFF;
        int n = Math.max(0, Math.min(count, (word >>> 16) - current));
        long slots = region(slab);
        for (int i = 0; i < n; i++) {
            LONG.set(memory, slots + 8L * current++, in[from + i]);
        }
        if (n > 0) {
            SHORT.set(memory, header, (short) current);
        }
        return n;
    }

    /** Raises the capacity of class {@code sc} by up to {@code by}, populating it first; returns the increase. */
    public int grow(int slab, int sc, int by) {
        long header = header(slab, sc);
        int word = (int) INT.get(memory, header);
        int current = word & 0xFFFF;
        int end = word >>> 16;
        if (end == 0) {
            current = end = BEGIN[sc];
        }
        int n = Math.max(0, Math.min(by, BEGIN[sc] + MAX_CAPACITY[sc] - end));
        INT.set(memory, header, current | (end + n) << 16);
        return n;
    }

    /** Lowers the capacity of class {@code sc} by up to {@code by}, using only capacity not holding objects. */
    public int shrinkUnused(int slab, int sc, int by) {
        long header = header(slab, sc);
        int word = (int) INT.get(memory, header);
        int current = word & 0xFFFF;
        int end = word >>> 16;
        int n = Math.max(0, Math.min(by, end - current));
        if (n > 0) {
            SHORT.set(memory, header + 2, (short) (end - n));
        }
        return n;
    }

    /**
     * Moves every object of class {@code sc} into {@code out} (at least {@link #maxCapacity} long) and
     * unpopulates the class (capacity 0); returns how many objects there were.
     */
    public int drain(int slab, int sc, long[] out) {
        long header = header(slab, sc);
        int current = (short) SHORT.get(memory, header) & 0xFFFF;
        int n = Math.max(0, current - BEGIN[sc]);
        long slots = region(slab);
        for (int i = 0; i < n; i++) {
            out[i] = (long) LONG.get(memory, slots + 8L * --current);
        }
        INT.set(memory, header, 0);
        return n;
    }

    // ---- racy readers (any thread; for policy and statistics) --------------------------------------

    /** Objects cached for class {@code sc} in {@code slab}, read without ownership. */
    public int length(int slab, int sc) {
        int word = (int) INT.getOpaque(memory, header(slab, sc));
        return Math.max(0, (word & 0xFFFF) - BEGIN[sc]);
    }

    /** Capacity of class {@code sc} in {@code slab}, read without ownership. */
    public int capacity(int slab, int sc) {
        int word = (int) INT.getOpaque(memory, header(slab, sc));
        int end = word >>> 16;
        return end == 0 ? 0 : end - BEGIN[sc];
    }

    /** Whether the stop word of {@code slab} is set right now. */
    public boolean isStopped(int slab) {
        return (int) INT.getOpaque(memory, region(slab) + STOP_OFFSET) != 0;
    }

    /** Offset of the first slab byte that may be handed back to the OS once the slab is drained. */
    static long releasableOffset(int slab) {
        return region(slab) + RETAINED_BYTES;
    }
}
