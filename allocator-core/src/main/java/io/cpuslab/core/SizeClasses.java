package io.cpuslab.core;

/**
 * TCMalloc's size-class table for 8 KiB pages and 16-byte alignment: 47 classes from 8 B to 256 KiB,
 * each with the number of pages in the spans it is carved from and the number of objects moved
 * between caches at a time ({@code batch = clamp(64 KiB / size, 2, 32)}).
 *
 * <p>Lookup is O(1) through one {@code byte[]} index array, as in TCMalloc's {@code SizeMap}: sizes up
 * to 1024 B are indexed in 8-byte steps, larger ones in 128-byte steps. Class 0 is the "no class"
 * marker used by large spans; every class from 16 B up is a multiple of 16, so its objects are
 * 16-byte aligned inside page-aligned spans.
 *
 * <pre>{@code
 * int sc = SizeClasses.classFor(100);      // 112-byte class
 * long block = SizeClasses.size(sc);       // 112
 * }</pre>
 */
public final class SizeClasses {
    /** log2 of the allocator's page: 8 KiB, as TCMalloc's default build. */
    public static final int PAGE_SHIFT = 13;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** Largest size served from size classes; anything larger is a span of whole pages. */
    public static final int MAX_SIZE = 256 * 1024;
    /** Number of class slots including the unused class 0. */
    public static final int COUNT = 48;
    /** Upper bound of objects moved between caches in one batch (TCMalloc's kMaxObjectsToMove). */
    public static final int MAX_OBJECTS_TO_MOVE = 128;

    /** Sizes up to this use 8-byte lookup steps, larger ones 128-byte steps (TCMalloc's kLargeSize). */
    private static final int SMALL_LOOKUP_LIMIT = 1024;
    /** Shifts the 128-byte index range to start right after the 8-byte one: 1025 B maps to index 129. */
    private static final int LARGE_INDEX_BIAS = 120 << 7;
    private static final int LARGE_INDEX_OFFSET = 127 + LARGE_INDEX_BIAS;
    private static final int INDEX_SIZE = ((MAX_SIZE + LARGE_INDEX_OFFSET) >> 7) + 1;

    // {bytes, pages per span} — google/tcmalloc size_classes.cc, 8 KiB pages, 16-byte alignment.
    private static final int[][] TABLE = {
            {0, 0},
            {8, 1}, {16, 1}, {32, 1}, {64, 1}, {80, 1}, {96, 1}, {112, 1}, {128, 1}, {160, 1}, {176, 1},
            {208, 1}, {256, 1}, {304, 1}, {368, 1}, {448, 1}, {512, 1}, {576, 1}, {704, 1}, {896, 1},
            {1024, 1}, {1152, 2}, {1408, 2}, {1792, 2}, {2048, 1}, {2304, 2}, {2688, 2}, {3456, 3},
            {4096, 1}, {4736, 3}, {6144, 3}, {8192, 1}, {9472, 5}, {12288, 3}, {16384, 2}, {20480, 5},
            {28672, 7}, {32768, 4}, {40960, 5}, {49152, 6}, {65536, 8}, {73728, 9}, {81920, 10},
            {98304, 12}, {131072, 16}, {155648, 19}, {204800, 25}, {262144, 32},
    };

    private static final int[] SIZE = new int[COUNT];
    private static final int[] PAGES = new int[COUNT];
    private static final int[] BATCH = new int[COUNT];
    private static final int[] OBJECTS_PER_SPAN = new int[COUNT];
    /**
     * Offsets inside a small span are below 2^18 (at most 32 pages), so {@code (offset * r) >>> 40} with
     * {@code r = 2^40 / size + 1} is exactly {@code offset / size}: the error, below offset / 2^40 < 2^-22,
     * never reaches the next integer because a remainder is at most 1 - 1/size <= 1 - 2^-18. One
     * multiply instead of a 64-bit division on every unsized free.
     */
    private static final int SPAN_OFFSET_BITS = 18;
    private static final int RECIPROCAL_SHIFT = 40;
    private static final long[] RECIPROCAL = new long[COUNT];
    private static final byte[] CLASS_INDEX = new byte[INDEX_SIZE];

    static {
        for (int sc = 1; sc < COUNT; sc++) {
            SIZE[sc] = TABLE[sc][0];
            PAGES[sc] = TABLE[sc][1];
            BATCH[sc] = Math.clamp(65536 / SIZE[sc], 2, 32);
            OBJECTS_PER_SPAN[sc] = (int) ((PAGES[sc] * PAGE_SIZE) / SIZE[sc]);
            RECIPROCAL[sc] = (1L << RECIPROCAL_SHIFT) / SIZE[sc] + 1;
            if (PAGES[sc] * PAGE_SIZE > 1L << SPAN_OFFSET_BITS) {
                throw new ExceptionInInitializerError("class " + sc + " spans exceed 2^" + SPAN_OFFSET_BITS + " bytes");
            }
        }
        // Fill the index array from the top so each index ends up with the smallest class that fits.
        int sc = COUNT - 1;
        for (int index = INDEX_SIZE - 1; index >= 0; index--) {
            while (sc > 1 && SIZE[sc - 1] >= largestSizeAt(index)) {
                sc--;
            }
            CLASS_INDEX[index] = (byte) sc;
        }
    }

    private SizeClasses() {
    }

    private static int index(long size) {
        return size <= SMALL_LOOKUP_LIMIT ? (int) ((size + 7) >> 3) : (int) ((size + LARGE_INDEX_OFFSET) >> 7);
    }

    /** The largest request size that maps to the given index array slot. */
    private static long largestSizeAt(int index) {
        long small = (long) index << 3;
        return small <= SMALL_LOOKUP_LIMIT ? small : Math.min(((long) index << 7) - LARGE_INDEX_BIAS, MAX_SIZE);
    }

    /**
     * The smallest class whose objects hold {@code size} bytes; size 0 gets the smallest class.
     *
     * @param size 0..{@link #MAX_SIZE}; larger sizes are not class-sized and must not be passed here
     */
    public static int classFor(long size) {
        return CLASS_INDEX[index(size)];
    }

    /**
     * A copy of the lookup table behind {@link #classFor}, for native code that maps sizes itself: entry
     * {@code i} is the class of the sizes whose lookup index is {@code i}, the index being
     * {@code (size + 7) >> 3} up to 1024 bytes and {@code (size + 127 + (120 << 7)) >> 7} above.
     */
    public static byte[] lookupTable() {
        return CLASS_INDEX.clone();
    }

    /** Object size of class {@code sc} in bytes. */
    public static int size(int sc) {
        return SIZE[sc];
    }

    /** Pages (of {@link #PAGE_SIZE}) in each span carved into objects of class {@code sc}. */
    public static int pages(int sc) {
        return PAGES[sc];
    }

    /** Objects moved between the per-CPU, transfer and central caches in one step. */
    public static int batch(int sc) {
        return BATCH[sc];
    }

    /** Objects carved from one span of class {@code sc}. */
    public static int objectsPerSpan(int sc) {
        return OBJECTS_PER_SPAN[sc];
    }

    /**
     * Index of the object of class {@code sc} that starts {@code offset} bytes into its span, or -1 if no
     * object starts there (an interior pointer, or the span's unused tail).
     *
     * @param offset {@code 0 <= offset < } the span's bytes
     */
    public static int objectIndex(int sc, long offset) {
        long index = (offset * RECIPROCAL[sc]) >>> RECIPROCAL_SHIFT;
        return index * SIZE[sc] == offset && index < OBJECTS_PER_SPAN[sc] ? (int) index : -1;
    }

    /** Pages needed for a large (non-class) request of {@code size} bytes. */
    public static long pagesFor(long size) {
        return (size + PAGE_SIZE - 1) >>> PAGE_SHIFT;
    }
}
