package io.cpuslab.bench;

import java.nio.ByteBuffer;

/**
 * {@link ByteBuffer#allocateDirect}: allocation zeroes the memory and registers a cleaner; "free" only
 * drops the reference, and the memory goes back when the garbage collector finds the buffer
 * unreachable, so its cost is paid later, partly on other threads, and is included only as far as it
 * slows this one down.
 *
 * <pre>{@code
 * Peer direct = new DirectBufferPeer();
 * }</pre>
 */
public final class DirectBufferPeer implements Peer {
    @Override
    public Slots slots(int capacity) {
        return new BufferSlots(capacity);
    }

    private static final class BufferSlots extends Slots {
        private final ByteBuffer[] buffers;

        BufferSlots(int capacity) {
            super(capacity);
            this.buffers = new ByteBuffer[capacity];
        }

        @Override
        public void allocate(int slot, int size) {
            buffers[slot] = ByteBuffer.allocateDirect(size);
        }

        @Override
        public void free(int slot) {
            buffers[slot] = null;
        }

        @Override
        public boolean isFull(int slot) {
            return buffers[slot] != null;
        }
    }
}
