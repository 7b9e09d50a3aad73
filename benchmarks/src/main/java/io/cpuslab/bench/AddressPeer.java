package io.cpuslab.bench;

/**
 * A peer that hands out raw addresses ({@code malloc}/{@code free} shaped): cpuslab and the native
 * allocators reached through FFM. Its slots are a {@code long[]} with 0 for empty.
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
        public boolean isFull(int slot) {
            return addresses[slot] != 0;
        }
    }
}
