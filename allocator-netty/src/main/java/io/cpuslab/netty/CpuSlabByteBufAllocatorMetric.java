package io.cpuslab.netty;

import io.cpuslab.AllocatorStats;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;

import java.util.concurrent.atomic.LongAdder;

/**
 * Netty's view of a {@link CpuSlabByteBufAllocator}: used direct memory is cpuslab's own count of bytes
 * in use ({@link AllocatorStats#applicationBytes()}, blocks rounded up to their size class), so the two
 * agree by construction. When the {@link OffHeapAllocator} also serves other code, those bytes are
 * counted too; give Netty its own allocator to see Netty alone.
 *
 * <pre>{@code
 * CpuSlabByteBufAllocatorMetric m = alloc.metric();
 * long direct = m.usedDirectMemory();
 * System.out.println(m.stats().cachedBytes());   // everything else cpuslab knows
 * }</pre>
 */
public final class CpuSlabByteBufAllocatorMetric implements ByteBufAllocatorMetric {

    private final OffHeapAllocator memory;
    private final LongAdder heapBytes;

    CpuSlabByteBufAllocatorMetric(OffHeapAllocator memory, LongAdder heapBytes) {
        this.memory = memory;
        this.heapBytes = heapBytes;
    }

    /** Bytes of the heap buffers' arrays not yet released. */
    @Override
    public long usedHeapMemory() {
        return heapBytes.sum();
    }

    /** cpuslab's bytes in use; reading it walks the allocator's statistics, so poll it, don't spin on it. */
    @Override
    public long usedDirectMemory() {
        return stats().applicationBytes();
    }

    /** All of cpuslab's numbers: caches, released memory, per class and per CPU. */
    public AllocatorStats stats() {
        return memory.stats();
    }

    @Override
    public String toString() {
        return "CpuSlabByteBufAllocatorMetric(usedHeapMemory: " + usedHeapMemory()
                + "; usedDirectMemory: " + usedDirectMemory() + ')';
    }
}
