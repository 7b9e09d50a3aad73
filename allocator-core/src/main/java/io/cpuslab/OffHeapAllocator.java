package io.cpuslab;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * An off-heap memory allocator: {@code malloc}/{@code free} on raw addresses for code that already
 * speaks addresses (Netty, Chronicle, Agrona), and {@link SegmentAllocator}/{@link Arena} for FFM code.
 *
 * <p>Any thread may free any block; virtual threads may move between carriers between any two calls.
 * Blocks are not zeroed unless asked ({@link #mallocZeroed}, {@link #newArena()}).
 *
 * <pre>{@code
 * try (OffHeapAllocator alloc = CpuSlab.create()) {
 *     long p = alloc.malloc(64);                    // 16-byte aligned
 *     MemorySegment.ofAddress(p).reinterpret(64).fill((byte) 1);
 *     alloc.free(p);                                // any thread may free it
 *
 *     MemorySegment s = alloc.allocate(100, 64);    // SegmentAllocator: 100 bytes, 64-byte aligned
 *     alloc.free(s);
 *
 *     try (Arena arena = alloc.newArena()) {        // everything goes back on close
 *         MemorySegment a = arena.allocate(4096);
 *     }
 *     System.out.println(alloc.frontEnd());
 * }
 * }</pre>
 *
 * <p>Bad input: negative sizes and alignments that are not powers of two throw
 * {@link IllegalArgumentException}; requests beyond the memory limit or the OS throw
 * {@link OutOfMemoryError} and leave the allocator usable; freeing an address this allocator never
 * handed out (or an interior address) throws {@link IllegalArgumentException} and changes nothing;
 * every call after {@link #close()} throws {@link IllegalStateException}.
 */
public interface OffHeapAllocator extends SegmentAllocator, AutoCloseable {

    /** Allocates {@code size} bytes; 16-byte aligned when size >= 16. Size 0 gives a unique minimal block. */
    long malloc(long size);

    /** Allocates {@code size} bytes aligned to {@code alignment}, a power of two (any size, page size and beyond). */
    long mallocAligned(long size, long alignment);

    /** Allocates {@code size} zeroed bytes. */
    long mallocZeroed(long size);

    /**
     * Resizes a block, keeping its contents up to the smaller size, and returns its address. The block stays
     * in place only when {@code newSize} is at most its {@link #usableSize} and {@code malloc} would pick the
     * block's own size class for {@code newSize} (a large block, above 256 KiB: when {@code newSize} is also
     * at least half its usable size); so in checked mode, where the usable size is exactly the size asked, a
     * block never grows in place. Moved or not, {@link #freeSized} says which size frees it afterwards. When
     * this throws, the block is unchanged and still allocated at {@code address}. Address 0 behaves as
     * {@link #malloc}.
     */
    long realloc(long address, long newSize);

    /** Frees a block; 0 is a no-op. The size is found through the page map. */
    void free(long address);

    /**
     * Frees a block whose size is known. {@code size} is the size last asked for the block, by {@code malloc},
     * {@code mallocZeroed} or its last {@link #realloc} (whether that moved the block or kept it in place), or
     * the block's current {@link #usableSize}. A size asked before the last realloc is not: after a realloc
     * that shrank the block in place, checked mode rejects it. Blocks from {@link #mallocAligned}
     * and {@link #allocate} must go back through {@link #free(long)}: their size class does not follow from
     * their size. Checked mode rejects a size that does not fit the block. Otherwise: on the rseq front end
     * the native page map files the block, so the size is only checked to be in range; on the locked front
     * end the size picks the size class, and one of another class than the block's corrupts the caches.
     */
    void freeSized(long address, long size);

    /**
     * Allocates {@code count} blocks of {@code size} bytes into {@code out[offset..offset+count)}, as that
     * many {@link #malloc} calls would. On the rseq front end a whole batch comes from one native call, so
     * the cost of crossing into native code is paid once per batch instead of once per block. Either all
     * blocks are allocated or none stays allocated: when one cannot be ({@link OutOfMemoryError}, a bad size)
     * those allocated before it are freed and the error is thrown.
     *
     * <pre>{@code
     * long[] blocks = new long[1000];
     * alloc.mallocBulk(64, blocks, 0, blocks.length);
     * ...
     * alloc.freeBulk(blocks, 0, blocks.length);
     * }</pre>
     *
     * @throws IndexOutOfBoundsException when the range is not inside {@code out}; nothing is allocated
     */
    void mallocBulk(long size, long[] out, int offset, int count);

    /**
     * Frees {@code addresses[offset..offset+count)} in order, as that many {@link #free(long)} calls would
     * (0 is skipped), one native call per batch on the rseq front end. An address {@code free} would reject
     * stops the call with an {@link IllegalArgumentException} that names its index: the blocks before it
     * were freed, it and those after it were not.
     *
     * @throws IndexOutOfBoundsException when the range is not inside {@code addresses}; nothing is freed
     */
    void freeBulk(long[] addresses, int offset, int count);

    /** Bytes usable at {@code address}: at least what was asked for, rounded up to the size class. */
    long usableSize(long address);

    /**
     * Allocates a segment of {@code byteSize} bytes in the global scope. Not zeroed. Give it back with
     * {@link #free(MemorySegment)}; the garbage collector never frees it.
     */
    @Override
    MemorySegment allocate(long byteSize, long byteAlignment);

    /** Frees a segment obtained from {@link #allocate(long, long)}. */
    void free(MemorySegment segment);

    /**
     * A confined arena whose zeroed segments come from this allocator and all go back on
     * {@link Arena#close()}; segments become inaccessible at close, as with {@link Arena#ofConfined()}.
     */
    Arena newArena();

    /** Like {@link #newArena()} but usable from any thread; its close pays the JDK's shared-arena handshake. */
    Arena newSharedArena();

    /** Numbers for code: bytes by where they are, per class and per CPU. */
    AllocatorStats stats();

    /** The same numbers as a text table for people, in the shape of TCMalloc's stats. */
    String statsReport();

    /**
     * Bytes of the page heap's memory that the kernel backs with transparent huge pages now
     * ({@code AnonHugePages} of its regions in {@code /proc/self/smaps}); -1 where that cannot be read
     * (not Linux). It reads a file the size of the process's mappings: for reports and monitoring, not for
     * a hot path. Whether the page heap asks for huge pages is {@code stats().hugePages()}.
     */
    long transparentHugePageBytes();

    /** Which front end serves this allocator and why. */
    FrontEndInfo frontEnd();

    /**
     * Drains every cache and returns all free pages to the OS now; with hugepages in use, all whole free
     * hugepages (free pages inside hugepages still in use stay, so those stay whole).
     */
    void releaseMemory();

    /** Returns all memory to the OS; every later call throws {@link IllegalStateException}. Idempotent. */
    @Override
    void close();
}
