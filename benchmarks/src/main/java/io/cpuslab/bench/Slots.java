package io.cpuslab.bench;

/**
 * Live blocks of one peer, addressed by slot number. A slot is empty or holds one live block; a
 * benchmark allocates into empty slots and frees full ones, so the peer's own handle type (address,
 * {@code ByteBuf}, arena, buffer) never leaves its implementation and nothing is boxed on the hot path.
 * Slots are not thread-safe: one thread uses them, or two hand them over with a happens-before edge.
 *
 * <pre>{@code
 * Slots slots = peer.slots(8192);
 * slots.allocate(7, 256);   // slot 7 now holds a 256-byte block
 * slots.free(7);            // and is empty again
 * slots.allocateRange(0, 100, 64);   // slots 0-99 hold 64-byte blocks (one bulk call where the peer has one)
 * slots.freeRange(0, 100);
 * slots.close();            // frees whatever is still live
 * }</pre>
 */
public abstract class Slots implements AutoCloseable {
    private final int capacity;

    protected Slots(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be > 0: " + capacity);
        }
        this.capacity = capacity;
    }

    public final int capacity() {
        return capacity;
    }

    /** Allocates {@code size} bytes into the empty slot. */
    public abstract void allocate(int slot, int size);

    /** Frees the block in the full slot, leaving it empty. */
    public abstract void free(int slot);

    /**
     * Frees the block in the full slot, which was allocated with {@code size} bytes, through the peer's
     * sized free; a peer without one frees as {@link #free} does.
     */
    public void freeSized(int slot, int size) {
        free(slot);
    }

    /** Whether the slot holds a live block. */
    public abstract boolean isFull(int slot);

    /**
     * Allocates {@code size} bytes into each of the {@code count} empty slots from {@code first}. A peer
     * with a bulk call overrides this; here it is one {@link #allocate} per slot.
     */
    public void allocateRange(int first, int count, int size) {
        for (int i = first; i < first + count; i++) {
            allocate(i, size);
        }
    }

    /**
     * Frees the blocks in the {@code count} full slots from {@code first}. A peer with a bulk call
     * overrides this; here it is one {@link #free} per slot, last to first, as a LIFO batch frees.
     */
    public void freeRange(int first, int count) {
        for (int i = first + count - 1; i >= first; i--) {
            free(i);
        }
    }

    /** Frees every live block. */
    @Override
    public final void close() {
        for (int i = 0; i < capacity; i++) {
            if (isFull(i)) {
                free(i);
            }
        }
    }
}
