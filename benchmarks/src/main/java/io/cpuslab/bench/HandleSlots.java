package io.cpuslab.bench;

import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Slots for a peer whose blocks are objects ({@code ByteBuf}, {@code Arena}, {@code ByteBuffer}):
 * one function makes a block of a size, one frees it.
 *
 * <pre>{@code
 * Slots slots = new HandleSlots<ByteBuf>(capacity, allocator::directBuffer, ByteBuf::release);
 * }</pre>
 *
 * @param <T> the peer's block type
 */
public final class HandleSlots<T> extends Slots {
    private final IntFunction<T> allocator;
    private final Consumer<T> releaser;
    private final Object[] handles;

    public HandleSlots(int capacity, IntFunction<T> allocator, Consumer<T> releaser) {
        super(capacity);
        this.allocator = allocator;
        this.releaser = releaser;
        this.handles = new Object[capacity];
    }

    @Override
    public void allocate(int slot, int size) {
        handles[slot] = allocator.apply(size);
    }

    @Override
    @SuppressWarnings("unchecked")   // only allocator's results are stored
    public void free(int slot) {
        releaser.accept((T) handles[slot]);
        handles[slot] = null;
    }

    @Override
    public boolean isFull(int slot) {
        return handles[slot] != null;
    }
}
