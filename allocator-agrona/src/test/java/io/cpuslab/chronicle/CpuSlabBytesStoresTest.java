package io.cpuslab.chronicle;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.internal.NativeBytesStore;
import net.openhft.chronicle.core.io.BackgroundResourceReleaser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.BufferOverflowException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chronicle Bytes (from Maven Central, on JDK 25) over cpuslab stores, released by Chronicle's own releaser. */
class CpuSlabBytesStoresTest {

    private static final int THREADS = 4;
    private static final int STORES_PER_THREAD = 5_000;
    private static final int MAX_STORE = 64 * 1024;
    private static final long RELEASER_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private OffHeapAllocator memory;

    @BeforeEach
    void createAllocator() {
        memory = CpuSlab.builder().checked(true).build();
    }

    @AfterEach
    void closeAllocator() {
        memory.close();
    }

    private long inUseAfterPendingReleases() {
        BackgroundResourceReleaser.releasePendingResources();
        return memory.stats().applicationBytes();
    }

    @Test
    void storesAreZeroedCpuSlabBlocks() {
        NativeBytesStore<Void> store = CpuSlabBytesStores.nativeStore(memory, 1000);
        long address = store.addressForRead(0);
        assertTrue(memory.usableSize(address) >= 1000);
        assertEquals(1000, store.capacity());
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, store.readByte(i));
        }
        store.writeLong(8, 42);
        assertEquals(42, store.readLong(8));
        store.releaseLast();
        assertEquals(0, inUseAfterPendingReleases());
    }

    @Test
    void bytesWriteAndReadWithChroniclesApiWithinTheirFixedCapacity() {
        Bytes<Void> bytes = CpuSlabBytesStores.fixedBytes(memory, 64);
        try {
            bytes.writeLong(7).writeInt(-3).writeUtf8("cpuslab ✓").writeDouble(0.5);
            assertEquals(7, bytes.readLong());
            assertEquals(-3, bytes.readInt());
            assertEquals("cpuslab ✓", bytes.readUtf8());
            assertEquals(0.5, bytes.readDouble());
            bytes.clear();
            assertThrows(BufferOverflowException.class, () -> bytes.write(new byte[65]));
        } finally {
            bytes.releaseLast();
        }
        assertEquals(0, inUseAfterPendingReleases());
    }

    @Test
    void releaseFreesTheBlockOnChroniclesReleaserThread() {
        Queue<String> freeingThreads = new ConcurrentLinkedQueue<>();
        OffHeapAllocator recording = recordFreeingThreads(memory, freeingThreads);
        Bytes<Void> bytes = CpuSlabBytesStores.fixedBytes(recording, 4096);
        bytes.writeLong(1);
        bytes.releaseLast();
        // Not releasePendingResources(): it runs what is still queued on the calling thread.
        long deadline = System.nanoTime() + RELEASER_WAIT_NANOS;
        while (freeingThreads.isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(0, memory.stats().applicationBytes());
        assertEquals(List.of(BackgroundResourceReleaser.BACKGROUND_RESOURCE_RELEASER), List.copyOf(freeingThreads),
                "freed once, by Chronicle's background releaser");
    }

    @Test
    void manyThreadsStoresAllComeBackThroughTheReleaser() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Long>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                long seed = new Random(t).nextLong();
                done.add(pool.submit(() -> churn(new SplittableRandom(seed))));
            }
            long corrupted = 0;
            for (Future<Long> f : done) {
                corrupted += f.get(120, TimeUnit.SECONDS);
            }
            assertEquals(0, corrupted, "stores whose pattern changed before release");
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, inUseAfterPendingReleases());
    }

    /** Writes a pattern derived from the address into each store, checks it, releases; returns the bad ones. */
    private long churn(SplittableRandom random) {
        long corrupted = 0;
        for (int i = 0; i < STORES_PER_THREAD; i++) {
            long capacity = 8 + random.nextInt(MAX_STORE);
            NativeBytesStore<Void> store = CpuSlabBytesStores.nativeStore(memory, capacity);
            long address = store.addressForRead(0);
            for (long at = 0; at + 8 <= capacity; at += 8) {
                store.writeLong(at, address ^ at);
            }
            for (long at = 0; at + 8 <= capacity; at += 8) {
                if (store.readLong(at) != (address ^ at)) {
                    corrupted++;
                    break;
                }
            }
            store.releaseLast();
        }
        return corrupted;
    }

    @Test
    void aNegativeCapacityIsRefusedWithoutTakingMemory() {
        assertThrows(IllegalArgumentException.class, () -> CpuSlabBytesStores.nativeStore(memory, -1));
        assertEquals(0, memory.stats().applicationBytes());
    }

    /** The same allocator, noting the thread of every {@code freeSized} after it returns. */
    private static OffHeapAllocator recordFreeingThreads(OffHeapAllocator target, Queue<String> threads) {
        return (OffHeapAllocator) Proxy.newProxyInstance(OffHeapAllocator.class.getClassLoader(),
                new Class<?>[] {OffHeapAllocator.class}, (proxy, method, args) -> {
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    } finally {
                        if (method.getName().equals("freeSized")) {      // noted once the free is done
                            threads.add(Thread.currentThread().getName());
                        }
                    }
                });
    }
}
