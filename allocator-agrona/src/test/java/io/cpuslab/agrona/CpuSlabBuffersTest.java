package io.cpuslab.agrona;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Agrona's own buffer API on cpuslab memory, and the owner that frees it. */
class CpuSlabBuffersTest {

    private static final int THREADS = 4;
    private static final int INCREMENTS = 200_000;

    private OffHeapAllocator memory;
    private CpuSlabBuffers buffers;

    @BeforeEach
    void createOwner() {
        memory = CpuSlab.builder().checked(true).build();
        buffers = new CpuSlabBuffers(memory);
    }

    @AfterEach
    void closeOwner() {
        buffers.close();
        assertEquals(0, memory.stats().applicationBytes(), "close() freed everything");
        memory.close();
    }

    @Test
    void buffersAreZeroedAlignedCpuSlabBlocks() {
        UnsafeBuffer buffer = buffers.allocateAligned(1000, 64);
        assertEquals(1000, buffer.capacity());
        assertEquals(0, buffer.addressOffset() % 64);
        assertTrue(memory.usableSize(buffer.addressOffset()) >= 1000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, buffer.getByte(i));
        }
        buffer.verifyAlignment();
        assertEquals(1, buffers.liveBuffers());
        assertEquals(1000, buffers.liveBytes());
    }

    @Test
    void putAndGetRoundTripThroughAgronasApi() {
        UnsafeBuffer buffer = buffers.allocate(256);
        buffer.putLong(0, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, buffer.getLong(0));
        assertEquals(0x0807060504030201L, buffer.getLong(0, ByteOrder.BIG_ENDIAN));
        buffer.putInt(8, -5, ByteOrder.BIG_ENDIAN);
        assertEquals(-5, buffer.getInt(8, ByteOrder.BIG_ENDIAN));
        buffer.putDouble(16, Math.E);
        assertEquals(Math.E, buffer.getDouble(16));
        int written = buffer.putStringAscii(32, "cpuslab");
        assertEquals("cpuslab", buffer.getStringAscii(32));
        assertEquals(4 + 7, written);
        byte[] bytes = {1, 2, 3, 4, 5};
        buffer.putBytes(100, bytes);
        byte[] back = new byte[5];
        buffer.getBytes(100, back);
        assertEquals(java.util.Arrays.toString(bytes), java.util.Arrays.toString(back));
        buffer.setMemory(100, 5, (byte) 9);
        assertEquals(9, buffer.getByte(104));
    }

    @Test
    void atomicOperationsWork() {
        AtomicBuffer buffer = buffers.allocate(64);
        assertTrue(buffer.compareAndSetLong(0, 0, 10));
        assertFalse(buffer.compareAndSetLong(0, 0, 11));
        assertEquals(10, buffer.getAndAddLong(0, 5));
        assertEquals(15, buffer.getLongVolatile(0));
        assertEquals(15, buffer.getAndSetLong(0, 1));
        buffer.putLongRelease(8, 77);
        assertEquals(77, buffer.getLongAcquire(8));
        assertTrue(buffer.compareAndSetInt(16, 0, 3));
        assertEquals(3, buffer.getAndAddInt(16, 4));
        assertEquals(7, buffer.getIntVolatile(16));
    }

    @Test
    void atomicIncrementsFromManyThreadsAreNotLost() throws Exception {
        AtomicBuffer buffer = buffers.allocate(64);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                done.add(pool.submit(() -> {
                    for (int i = 0; i < INCREMENTS; i++) {
                        buffer.getAndAddLong(0, 1);
                        long seen;
                        do {
                            seen = buffer.getLongVolatile(8);
                        } while (!buffer.compareAndSetLong(8, seen, seen + 2));
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals((long) THREADS * INCREMENTS, buffer.getLongVolatile(0));
        assertEquals(2L * THREADS * INCREMENTS, buffer.getLongVolatile(8));
    }

    @Test
    void boundsChecksRefuseAccessOutsideTheBuffer() {
        UnsafeBuffer buffer = buffers.allocate(64);
        if (!UnsafeBuffer.SHOULD_BOUNDS_CHECK) {
            System.out.println("SKIPPED bounds check test: agrona.disable.bounds.checks=true");
            return;
        }
        assertThrows(IndexOutOfBoundsException.class, () -> buffer.getLong(57));
        assertThrows(IndexOutOfBoundsException.class, () -> buffer.putByte(64, (byte) 1));
        assertThrows(IndexOutOfBoundsException.class, () -> buffer.getByte(-1));
        assertThrows(IndexOutOfBoundsException.class, () -> buffer.putBytes(60, new byte[8]));
    }

    @Test
    void freeGivesTheMemoryBackAndEmptiesTheView() {
        UnsafeBuffer buffer = buffers.allocate(4096);
        buffers.free(buffer);
        assertEquals(0, memory.stats().applicationBytes());
        assertEquals(0, buffers.liveBuffers());
        assertEquals(0, buffer.capacity());
        if (UnsafeBuffer.SHOULD_BOUNDS_CHECK) {
            assertThrows(IndexOutOfBoundsException.class, () -> buffer.getLong(0));
        }
    }

    @Test
    void buffersFreedOnAnotherThreadGoBack() throws Exception {
        List<UnsafeBuffer> list = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            list.add(buffers.allocate(8 + i * 61));
        }
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            other.submit(() -> list.forEach(buffers::free)).get(30, TimeUnit.SECONDS);
        } finally {
            other.shutdown();
        }
        assertEquals(0, buffers.liveBuffers());
        assertEquals(0, memory.stats().applicationBytes());
    }

    @Test
    void freeingWhatItDoesNotOwnIsRefusedAndFreesNothing() {
        UnsafeBuffer buffer = buffers.allocate(128);
        long inUse = memory.stats().applicationBytes();
        assertThrows(IllegalArgumentException.class, () -> buffers.free(new UnsafeBuffer(new byte[8])));
        assertThrows(IllegalArgumentException.class, () -> buffers.free(new UnsafeBuffer(buffer, 8, 16)));
        UnsafeBuffer sameStart = new UnsafeBuffer(buffer, 0, 16);
        buffers.free(sameStart);
        assertThrows(IllegalArgumentException.class, () -> buffers.free(buffer), "double free");
        assertTrue(memory.stats().applicationBytes() < inUse);
        assertEquals(0, buffers.liveBuffers());
    }

    @Test
    void badArgumentsAndUseAfterCloseAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> buffers.allocate(-1));
        assertThrows(IllegalArgumentException.class, () -> buffers.allocateAligned(64, 3));
        assertEquals(0, memory.stats().applicationBytes());
        UnsafeBuffer kept = buffers.allocate(64);
        buffers.allocate(8000);
        buffers.close();
        assertEquals(0, memory.stats().applicationBytes(), "close() freed the live buffers");
        assertThrows(IllegalStateException.class, () -> buffers.allocate(8));
        assertThrows(IllegalStateException.class, () -> buffers.free(kept));
        buffers.close();
    }
}
