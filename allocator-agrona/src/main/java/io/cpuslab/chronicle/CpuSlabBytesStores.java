package io.cpuslab.chronicle;

import io.cpuslab.OffHeapAllocator;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.internal.NativeBytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;

/**
 * Chronicle Bytes stores over cpuslab memory. The store's deallocator frees the block back to cpuslab
 * when its last reference goes; Chronicle runs that on its {@code background~resource~releaser} thread,
 * so the free is a cross-thread free, which cpuslab serves like any other.
 *
 * <p>Only fixed-capacity stores: Chronicle's elastic growth ({@code NativeBytes.resize}) is private and
 * allocates its new store from Chronicle's own Unsafe memory, so it cannot be pointed at cpuslab.
 * Chronicle on JDK 25 wants the flags listed in this module's README section.
 *
 * <pre>{@code
 * OffHeapAllocator memory = CpuSlab.global();
 * Bytes<Void> bytes = CpuSlabBytesStores.fixedBytes(memory, 1024);
 * bytes.writeLong(42).writeUtf8("hello");
 * long value = bytes.readLong();
 * bytes.releaseLast();                       // the block goes back to cpuslab (on Chronicle's releaser thread)
 *
 * NativeBytesStore<Void> store = CpuSlabBytesStores.nativeStore(memory, 4096);
 * store.writeLong(0, 7);
 * store.releaseLast();
 * }</pre>
 */
public final class CpuSlabBytesStores {

    private CpuSlabBytesStores() {
    }

    /**
     * A zeroed store of {@code capacity} bytes owned by {@link ReferenceOwner#INIT}; {@code releaseLast()}
     * (or {@code release(INIT)} once no one else holds it) frees it.
     *
     * @throws IllegalArgumentException if {@code capacity} is negative
     * @throws OutOfMemoryError         if cpuslab cannot supply the memory
     */
    public static NativeBytesStore<Void> nativeStore(OffHeapAllocator memory, long capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must be >= 0: " + capacity);
        }
        long address = memory.mallocZeroed(capacity);
        try {
            return new NativeBytesStore<>(address, capacity, new FreeBlock(memory, address, capacity), false);
        } catch (RuntimeException | Error e) {
            memory.freeSized(address, capacity);
            throw e;
        }
    }

    /** A {@link Bytes} of fixed capacity over a fresh {@link #nativeStore}; its {@code releaseLast()} frees the store. */
    public static Bytes<Void> fixedBytes(OffHeapAllocator memory, long capacity) {
        NativeBytesStore<Void> store = nativeStore(memory, capacity);
        try {
            return store.bytesForWrite();
        } finally {
            store.release(ReferenceOwner.INIT);     // the Bytes holds the only reference now
        }
    }

    /** Frees one block; Chronicle calls it once, on whichever thread performs the release. */
    private record FreeBlock(OffHeapAllocator memory, long address, long size) implements Runnable {
        @Override
        public void run() {
            memory.freeSized(address, size);
        }
    }
}
