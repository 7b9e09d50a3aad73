package io.cpuslab.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * An {@link Arena} whose segments come from a cpuslab allocator, following the "custom arena" pattern
 * of the {@code Arena} Javadoc: lifetime and thread confinement come from an inner JDK arena
 * (confined or shared), memory from the allocator. The arena keeps the address of every block it
 * handed out, and {@link #close()} closes the inner arena (every segment becomes inaccessible, after
 * the JDK's handshake for a shared one) and then gives all blocks back with one
 * {@link CpuSlabAllocator#freeBulk} call. Segments are zeroed, as the JDK's arenas' are.
 *
 * <pre>{@code
 * try (Arena arena = allocator.newArena()) {
 *     MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG, 16);
 * }   // all segments freed here
 * }</pre>
 *
 * <p>The block list is guarded by the arena's monitor: a shared arena's segments may be allocated by
 * any thread, and close must see every one. An allocation that loses the race with close frees its
 * own block and throws, as the JDK's arenas do.
 */
final class AllocatorArena implements Arena {
    private static final int INITIAL_BLOCKS = 16;

    private final CpuSlabAllocator allocator;
    private final Arena inner;
    /** Guarded by this. */
    private long[] blocks = new long[INITIAL_BLOCKS];
    /** Guarded by this. */
    private int count;
    /** Guarded by this: set once close has taken the list. */
    private boolean closing;

    AllocatorArena(CpuSlabAllocator allocator, Arena inner) {
        this.allocator = allocator;
        this.inner = inner;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        long address = allocator.mallocAligned(byteSize, byteAlignment);
        MemorySegment segment;
        try {
            // The JDK's checks: an arena that is closed, or a confined one used from another thread, throws here.
            segment = MemorySegment.ofAddress(address).reinterpret(byteSize, inner, null);
            allocator.zero(address, byteSize);
            keep(address);
        } catch (RuntimeException | Error e) {
            allocator.free(address); // the block never reached the caller
            throw e;
        }
        return segment;
    }

    private synchronized void keep(long address) {
        if (closing) {
            throw new IllegalStateException("Already closed");
        }
        if (count == blocks.length) {
            blocks = Arrays.copyOf(blocks, 2 * count);
        }
        blocks[count++] = address;
    }

    @Override
    public MemorySegment.Scope scope() {
        return inner.scope();
    }

    @Override
    public void close() {
        inner.close(); // throws, and frees nothing, if already closed or not the owner thread
        long[] taken;
        int n;
        synchronized (this) {
            closing = true;
            taken = blocks;
            n = count;
            blocks = null;
            count = 0;
        }
        allocator.freeBulk(taken, 0, n);
    }
}
