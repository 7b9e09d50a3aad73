package io.cpuslab.bench;

import io.cpuslab.OffHeapAllocator;

/**
 * cpuslab as a peer: {@code malloc} and unsized {@code free}, the same calls the native peers get;
 * {@code freeSized} where a workload frees sized, and one {@code mallocBulk} and one {@code freeBulk} for a
 * range of slots.
 *
 * <pre>{@code
 * try (Peer peer = new CpuSlabPeer(CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.LOCKED).build())) { ... }
 * }</pre>
 */
public final class CpuSlabPeer extends AddressPeer {
    private final OffHeapAllocator allocator;

    public CpuSlabPeer(OffHeapAllocator allocator) {
        this.allocator = allocator;
    }

    /** The allocator itself, for a benchmark's report of its own numbers. */
    OffHeapAllocator allocator() {
        return allocator;
    }

    @Override
    public long malloc(long size) {
        return allocator.malloc(size);
    }

    @Override
    public void free(long address) {
        allocator.free(address);
    }

    @Override
    public void freeSized(long address, long size) {
        allocator.freeSized(address, size);
    }

    @Override
    public void mallocBulk(long size, long[] out, int offset, int count) {
        allocator.mallocBulk(size, out, offset, count);
    }

    @Override
    public void freeBulk(long[] addresses, int offset, int count) {
        allocator.freeBulk(addresses, offset, count);
    }

    @Override
    public long cachedBytes() {
        return allocator.stats().cachedBytes();
    }

    @Override
    public String cachedBytesSource() {
        return "stats().cachedBytes(): per-CPU, transfer and central caches plus the page heap's free pages";
    }

    @Override
    public void close() {
        allocator.close();
    }
}
