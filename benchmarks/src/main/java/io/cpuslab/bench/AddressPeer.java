package io.cpuslab.bench;

import java.util.Arrays;

/**
 * A peer that hands out raw addresses ({@code malloc}/{@code free} shaped): cpuslab and the native
 * allocators reached through FFM. Its slots are a {@code long[]} with 0 for empty, so a peer with bulk
 * calls can fill and free a range of slots in one call each.
 *
 * <pre>{@code
 * AddressPeer peer = new CpuSlabPeer(CpuSlab.create());
 * long p = peer.malloc(64);
 * peer.free(p);
 * }</pre>
 */
public abstract class AddressPeer implements Peer {
    public abstract long malloc(long size);

    public abstract void free(long address);

    /** Frees a block of {@code size} bytes; without a sized free, {@link #free}. */
    public void freeSized(long address, long size) {
        free(address);
    }

    /** Allocates {@code count} blocks into {@code out} from {@code offset}; without a bulk call, one {@link #malloc} each. */
    public void mallocBulk(long size, long[] out, int offset, int count) {
        for (int i = offset; i < offset + count; i++) {
            out[i] = malloc(size);
        }
    }

    /** Frees {@code count} blocks of {@code addresses} from {@code offset}; without a bulk call, one {@link #free} each, last to first. */
    public void freeBulk(long[] addresses, int offset, int count) {
        for (int i = offset + count - 1; i >= offset; i--) {
            free(addresses[i]);
        }
    }

    @Override
    public final Slots slots(int capacity) {
        return new AddressSlots(this, capacity);
    }

    private static final class AddressSlots extends Slots {
        private final AddressPeer peer;
        private final long[] addresses;

        AddressSlots(AddressPeer peer, int capacity) {
            super(capacity);
            this.peer = peer;
            this.addresses = new long[capacity];
        }

        @Override
        public void allocate(int slot, int size) {
            addresses[slot] = peer.malloc(size);
        }

        @Override
        public void free(int slot) {
            peer.free(addresses[slot]);
            addresses[slot] = 0;
        }

        @Override
        public void freeSized(int slot, int size) {
            peer.freeSized(addresses[slot], size);
            addresses[slot] = 0;
        }

        @Override
        public boolean isFull(int slot) {
            return addresses[slot] != 0;
        }

        @Override
        public void allocateRange(int first, int count, int size) {
            peer.mallocBulk(size, addresses, first, count);
        }

        // Emptying the slots afterwards is the same bookkeeping free(slot) does per block.
        @Override
        public void freeRange(int first, int count) {
            peer.freeBulk(addresses, first, count);
            Arrays.fill(addresses, first, first + count, 0);
        }
    }
}
