package io.cpuslab.bench;

import io.cpuslab.OffHeapAllocator;
import io.cpuslab.netty.CpuSlabByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.ResourceLeakDetector;

/**
 * A Netty {@link ByteBufAllocator} as a peer: {@code directBuffer(size)} and {@code release()}. Leak
 * detection is off, as in Netty's own microbenchmarks (its 1-in-128 sampling would be measured too).
 * With {@code --enable-native-access} Netty 4.2 on JDK 25 backs direct memory with {@code malloc}
 * through FFM, as it does in production; without it, with a shared arena per chunk.
 *
 * <pre>{@code
 * try (Peer netty = new NettyPeer(new PooledByteBufAllocator(true))) { ... }
 * }</pre>
 */
public final class NettyPeer implements Peer {
    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }

    private final ByteBufAllocator allocator;
    /** The cpuslab allocator under cpuslab's Netty adapter (its caches are what it keeps), or null. */
    private final OffHeapAllocator memory;

    public NettyPeer(ByteBufAllocator allocator) {
        this(allocator, null);
    }

    /** cpuslab's Netty adapter over {@code memory}, which the peer closes. */
    public NettyPeer(CpuSlabByteBufAllocator allocator, OffHeapAllocator memory) {
        this((ByteBufAllocator) allocator, memory);
    }

    private NettyPeer(ByteBufAllocator allocator, OffHeapAllocator memory) {
        this.allocator = allocator;
        this.memory = memory;
    }

    /** The allocator itself, for benchmarks that hand it to Netty's channels. */
    ByteBufAllocator allocator() {
        return allocator;
    }

    @Override
    public Slots slots(int capacity) {
        return new HandleSlots<ByteBuf>(capacity, allocator::directBuffer, ByteBuf::release);
    }

    @Override
    public long cachedBytes() {
        if (memory != null) {
            return memory.stats().cachedBytes();
        }
        return allocator instanceof ByteBufAllocatorMetricProvider p ? p.metric().usedDirectMemory() : NOT_REPORTED;
    }

    @Override
    public String cachedBytesSource() {
        if (memory != null) {
            return "cpuslab's stats().cachedBytes() under the adapter";
        }
        return allocator instanceof ByteBufAllocatorMetricProvider
                ? "metric().usedDirectMemory(): direct memory the allocator holds (with every buffer released, all of it is cache)"
                : Peer.super.cachedBytesSource();
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close();
        }
    }
}
