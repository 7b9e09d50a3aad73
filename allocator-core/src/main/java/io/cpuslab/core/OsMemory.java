package io.cpuslab.core;

/**
 * Where the page heap and the slab metadata get their memory from: big, aligned regions of address
 * space, returned whole on {@link #unmap}, with free pages handed back to the OS through {@link #release}.
 *
 * <p>{@link #forThisPlatform()} picks {@code mmap} through FFM on Linux and an {@code Arena} elsewhere.
 * Tests wrap an instance to simulate failures.
 *
 * <pre>{@code
 * OsMemory os = OsMemory.forThisPlatform();
 * long base = os.map(64 << 20, 2 << 20);   // 64 MiB, 2 MiB aligned
 * os.release(base, 1 << 20);               // first MiB back to the OS; reads as zero afterwards
 * os.unmap(base, 64 << 20);
 * }</pre>
 */
public interface OsMemory {
    /**
     * Maps {@code bytes} of readable, writable, zero-filled memory at an address aligned to
     * {@code alignment} (a power of two).
     *
     * @throws OffHeapExhaustedError when the OS refuses, with the size and the reason (an {@link OutOfMemoryError},
     *                               which the page heap alone turns into a {@link NoMemory} value)
     */
    long map(long bytes, long alignment);

    /** Returns a region obtained from {@link #map} with the same size. */
    void unmap(long address, long bytes);

    /**
     * Gives the physical memory behind a page-aligned range back to the OS; the range stays mapped and
     * reads as zero afterwards. Does nothing where {@link #canRelease()} is false.
     */
    void release(long address, long bytes);

    /** Whether {@link #release} really returns memory, so released pages can be counted as such. */
    boolean canRelease();

    /**
     * Makes a page-aligned range inaccessible ({@code PROT_NONE}) or readable and writable again, for
     * guard pages; says whether it did. The default cannot.
     */
    default boolean protect(long address, long bytes, boolean accessible) {
        return false;
    }

    /** Whether {@link #protect} can work here at all. */
    default boolean canProtect() {
        return false;
    }

    /**
     * Asks the OS to back a mapped range with transparent huge pages ({@code MADV_HUGEPAGE}); says whether
     * it took the advice. The default cannot.
     */
    default boolean adviseHugePages(long address, long bytes) {
        return false;
    }

    /** Whether {@link #adviseHugePages} can work here at all. */
    default boolean canAdviseHugePages() {
        return false;
    }

    /** A few words for reports, e.g. "mmap" or "Arena (no release)". */
    String description();

    /** {@code mmap} on Linux when native access works, an {@code Arena} otherwise. */
    static OsMemory forThisPlatform() {
        return MmapMemory.isSupported() ? new MmapMemory() : new ArenaMemory();
    }
}
