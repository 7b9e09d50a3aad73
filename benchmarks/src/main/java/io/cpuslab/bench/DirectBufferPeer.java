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
        return new HandleSlots<>(capacity, ByteBuffer::allocateDirect, DirectBufferPeer::drop);
    }

    /** Nothing to call: the buffer becomes garbage when its slot forgets it. */
    private static void drop(ByteBuffer buffer) {
    }
}
