package io.cpuslab.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An {@link Arena} whose segments come from a cpuslab allocator, following the "custom arena" pattern
 * of the {@code Arena} Javadoc: lifetime and thread confinement come from an inner JDK arena
 * (confined or shared), memory from the allocator. Each segment is attached to the inner arena with a
 * cleanup action that frees it, so {@link #close()} gives every block back, and the JDK checks the
 * owner thread and liveness on every allocation. Segments are zeroed, as the JDK's arenas' are.
 *
 * <pre>{@code
 * try (Arena arena = allocator.newArena()) {
 *     MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG, 16);
 * }   // all segments freed here
 * }</pre>
 */
final class AllocatorArena implements Arena {
    private final CpuSlabAllocator allocator;
    private final Arena inner;

    AllocatorArena(CpuSlabAllocator allocator, Arena inner) {
        this.allocator = allocator;
        this.inner = inner;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        long address = allocator.mallocAligned(byteSize, byteAlignment);
        try {
            allocator.zero(address, byteSize);
            return MemorySegment.ofAddress(address).reinterpret(byteSize, inner, s -> allocator.free(s.address()));
        } catch (RuntimeException | Error e) {
            allocator.free(address); // closed arena or wrong thread: the block never reached the caller
            throw e;
        }
    }

    @Override
    public MemorySegment.Scope scope() {
        return inner.scope();
    }

    @Override
    public void close() {
        inner.close();
    }
}
