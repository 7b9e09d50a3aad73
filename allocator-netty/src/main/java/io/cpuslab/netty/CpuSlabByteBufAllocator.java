package io.cpuslab.netty;

import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Netty {@link io.netty.buffer.ByteBufAllocator} whose direct buffers live in cpuslab memory and go
 * back to it on the last {@code release()}, from whichever thread releases them. Heap buffers are
 * Netty's own {@link UnpooledHeapByteBuf}; composite buffers are Netty's own and take their components
 * (and consolidation buffers) from this allocator. Leak detection is Netty's: every buffer passes
 * through {@code toLeakAwareBuffer}, so {@code -Dio.netty.leakDetection.level} applies as usual.
 *
 * <p>Netty has no allocator SPI or property for a third-party allocator: set it per bootstrap.
 * <pre>{@code
 * CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(CpuSlab.global());
 * ServerBootstrap b = new ServerBootstrap()
 *         .option(ChannelOption.ALLOCATOR, alloc)
 *         .childOption(ChannelOption.ALLOCATOR, alloc);
 * ...
 * System.out.println(alloc.metric());   // used direct bytes are cpuslab's bytes in use
 * }</pre>
 *
 * <p>Used direct memory is what cpuslab holds for the buffers, not the sum of their capacities: each
 * block is rounded up to its size class, and checked mode and guard sampling take more. A checked buffer
 * has an 8-byte canary after its capacity, so a 1024 B buffer holds a block of the next class (1152 B);
 * a buffer sampled for a guard page holds a span of its own, the guard page included.
 *
 * <p>The direct buffer is {@link CpuSlabDirectByteBuf} (its comment says why it is not one of Netty's
 * classes). Buffer objects are not recycled: Netty's {@code Recycler} keeps per-thread stacks, which
 * is the per-thread growth cpuslab exists to avoid, and a buffer is one small young-generation object.
 * The {@link OffHeapAllocator} stays the caller's: this class never closes it. Close it after the last
 * buffer is released: close gives all its memory back to the OS, and a later {@code release()} throws
 * {@link IllegalStateException}.
 */
public final class CpuSlabByteBufAllocator extends AbstractByteBufAllocator implements ByteBufAllocatorMetricProvider {

    private final OffHeapAllocator memory;
    private final boolean preferDirect;
    private final LongAdder heapBytes = new LongAdder();
    private final CpuSlabByteBufAllocatorMetric metric;

    /** An allocator that prefers direct buffers for {@code buffer()}. */
    public CpuSlabByteBufAllocator(OffHeapAllocator memory) {
        this(memory, true);
    }

    /**
     * @param memory       where direct buffers live; not closed by this allocator
     * @param preferDirect whether {@code buffer()} gives direct (cpuslab) or heap buffers
     */
    public CpuSlabByteBufAllocator(OffHeapAllocator memory, boolean preferDirect) {
        super(preferDirect);
        this.memory = Objects.requireNonNull(memory, "memory");
        this.preferDirect = preferDirect;
        this.metric = new CpuSlabByteBufAllocatorMetric(memory, heapBytes);
    }

    /** The cpuslab allocator behind the direct buffers. */
    public OffHeapAllocator memory() {
        return memory;
    }

    // AbstractByteBufAllocator honours preferDirect only when Netty itself can free direct buffers
    // reliably (a Cleaner it trusts); cpuslab frees them itself, so the choice is ours.
    @Override
    public ByteBuf buffer() {
        return preferDirect ? directBuffer() : heapBuffer();
    }

    @Override
    public ByteBuf buffer(int initialCapacity) {
        return preferDirect ? directBuffer(initialCapacity) : heapBuffer(initialCapacity);
    }

    @Override
    public ByteBuf buffer(int initialCapacity, int maxCapacity) {
        return preferDirect ? directBuffer(initialCapacity, maxCapacity) : heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new CpuSlabDirectByteBuf(this, memory, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new CountedHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    /** Direct memory is reused through cpuslab's caches, so it is pooled in Netty's sense. */
    @Override
    public boolean isDirectBufferPooled() {
        return true;
    }

    @Override
    public CpuSlabByteBufAllocatorMetric metric() {
        return metric;
    }

    /** Netty's heap buffer, counting its array bytes for {@link CpuSlabByteBufAllocatorMetric#usedHeapMemory()}. */
    private static final class CountedHeapByteBuf extends UnpooledHeapByteBuf {

        CountedHeapByteBuf(CpuSlabByteBufAllocator alloc, int initialCapacity, int maxCapacity) {
            super(alloc, initialCapacity, maxCapacity);
        }

        @Override
        protected byte[] allocateArray(int initialCapacity) {
            byte[] array = super.allocateArray(initialCapacity);
            ((CpuSlabByteBufAllocator) alloc()).heapBytes.add(array.length);
            return array;
        }

        @Override
        protected void freeArray(byte[] array) {
            ((CpuSlabByteBufAllocator) alloc()).heapBytes.add(-array.length);
            super.freeArray(array);
        }
    }
}
