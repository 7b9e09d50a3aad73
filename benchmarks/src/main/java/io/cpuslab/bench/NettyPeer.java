package io.cpuslab.bench;

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

    public NettyPeer(ByteBufAllocator allocator) {
        this.allocator = allocator;
    }

    @Override
    public Slots slots(int capacity) {
        return new BufferSlots(allocator, capacity);
    }

    @Override
    public long cachedBytes() {
        return allocator instanceof ByteBufAllocatorMetricProvider p ? p.metric().usedDirectMemory() : NOT_REPORTED;
    }

    @Override
    public String cachedBytesSource() {
        return allocator instanceof ByteBufAllocatorMetricProvider
                ? "metric().usedDirectMemory(): direct memory the allocator holds (with every buffer released, all of it is cache)"
                : Peer.super.cachedBytesSource();
    }

    private static final class BufferSlots extends Slots {
        private final ByteBufAllocator allocator;
        private final ByteBuf[] buffers;

        BufferSlots(ByteBufAllocator allocator, int capacity) {
            super(capacity);
            this.allocator = allocator;
            this.buffers = new ByteBuf[capacity];
        }

        @Override
        public void allocate(int slot, int size) {
            buffers[slot] = allocator.directBuffer(size);
        }

        @Override
        public void free(int slot) {
            buffers[slot].release();
            buffers[slot] = null;
        }

        @Override
        public boolean isFull(int slot) {
            return buffers[slot] != null;
        }
    }
}
