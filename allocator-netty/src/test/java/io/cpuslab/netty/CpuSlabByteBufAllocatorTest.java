package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the allocator adds to Netty's buffers: where memory comes from, when it goes back, and how it is counted. */
class CpuSlabByteBufAllocatorTest {

    private OffHeapAllocator memory;
    private CpuSlabByteBufAllocator alloc;

    @BeforeEach
    void createAllocator() {
        memory = CpuSlab.builder().checked(true).build();
        alloc = new CpuSlabByteBufAllocator(memory);
    }

    @AfterEach
    void closeAllocator() {
        memory.close();
    }

    private long inUse() {
        return memory.stats().applicationBytes();
    }

    @Test
    void directBuffersAreCpuSlabBlocksThatGoBackOnRelease() {
        ByteBuf buf = alloc.directBuffer(1000);
        assertTrue(buf.hasMemoryAddress());
        assertTrue(memory.usableSize(buf.memoryAddress()) >= 1000, "the address is a cpuslab block");
        assertTrue(inUse() >= 1000);
        buf.release();
        assertEquals(0, inUse());
    }

    @Test
    void buffersReleasedOnAnotherThreadGoBack() throws Exception {
        List<ByteBuf> bufs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            bufs.add(alloc.directBuffer(16 + i * 37).writeInt(i));
        }
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            other.submit(() -> bufs.forEach(ByteBuf::release)).get(30, TimeUnit.SECONDS);
        } finally {
            other.shutdown();
        }
        assertEquals(0, inUse());
    }

    @Test
    void preferDirectDecidesWhatBufferGives() {
        ByteBuf direct = alloc.buffer(64);
        ByteBuf io = alloc.ioBuffer(64);
        ByteBuf heap = new CpuSlabByteBufAllocator(memory, false).buffer(64);
        try {
            assertTrue(direct.isDirect());
            assertTrue(io.isDirect());
            assertFalse(heap.isDirect());
            assertTrue(heap.hasArray());
        } finally {
            direct.release();
            io.release();
            heap.release();
        }
    }

    @Test
    void metricsMatchCpuSlabStats() {
        ByteBuf direct = alloc.directBuffer(3000);
        ByteBuf heap = alloc.heapBuffer(500);
        CpuSlabByteBufAllocatorMetric metric = alloc.metric();
        assertEquals(memory.stats().applicationBytes(), metric.usedDirectMemory());
        assertTrue(metric.usedDirectMemory() >= 3000);
        assertEquals(500, metric.usedHeapMemory());
        direct.release();
        heap.release();
        assertEquals(0, metric.usedDirectMemory());
        assertEquals(0, metric.usedHeapMemory());
    }

    @Test
    void capacityGrowthReallocatesAndKeepsContent() {
        ByteBuf buf = alloc.directBuffer(64);
        for (int i = 0; i < 100_000; i++) {
            buf.writeByte(i);
        }
        assertTrue(buf.capacity() >= 100_000);
        assertTrue(memory.usableSize(buf.memoryAddress()) >= buf.capacity(), "grown in cpuslab memory");
        for (int i = 0; i < 100_000; i++) {
            assertEquals((byte) i, buf.getByte(i));
        }
        buf.release();
        assertEquals(0, inUse());
    }

    @Test
    void aBufferShrunkInPlaceIsFreedAsItsBlockNotAsItsNewCapacity() {
        // Unchecked mode trusts freeSized's size: freeing a shrunk block by its new capacity would file it
        // under a smaller size class.
        OffHeapAllocator unchecked = CpuSlab.builder().checked(false).build();
        try {
            CpuSlabByteBufAllocator fast = new CpuSlabByteBufAllocator(unchecked);
            for (int size = 64; size <= 200_000; size += size / 3) {
                ByteBuf buf = fast.directBuffer(size);
                long address = buf.memoryAddress();
                buf.capacity(size * 3 / 5);
                buf.capacity(size * 4 / 5);
                boolean inPlace = buf.memoryAddress() == address;
                buf.release();
                assertEquals(0, unchecked.stats().applicationBytes(), "size " + size + (inPlace ? " (in place)" : ""));
            }
            unchecked.releaseMemory();
            assertEquals(0, unchecked.stats().applicationBytes());
        } finally {
            unchecked.close();
        }
    }

    @Test
    void compositeBuffersTakeComponentsFromTheAllocatorAndFreeThemAll() {
        CompositeByteBuf composite = alloc.compositeDirectBuffer(4);
        for (int i = 0; i < 8; i++) {
            composite.addComponent(true, alloc.directBuffer(100).writeLong(i).writeZero(92));
        }
        assertEquals(800, composite.readableBytes());
        for (int i = 0; i < 8; i++) {
            assertEquals(i, composite.getLong(i * 100));
        }
        // more than maxNumComponents: Netty consolidated into one buffer from alloc()
        assertTrue(composite.numComponents() <= 4);
        assertTrue(inUse() >= 800);
        composite.release();
        assertEquals(0, inUse());
    }

    @Test
    void badCapacitiesAreRefusedWithoutTakingMemory() {
        assertThrows(IllegalArgumentException.class, () -> alloc.directBuffer(-1));
        assertThrows(IllegalArgumentException.class, () -> alloc.directBuffer(100, 10));
        assertEquals(0, inUse());
    }

    @Test
    void aFailedGrowthLeavesTheBufferAsItWas() {
        OffHeapAllocator small = CpuSlab.builder().memoryLimit(8L << 20).build();
        try {
            CpuSlabByteBufAllocator limited = new CpuSlabByteBufAllocator(small);
            ByteBuf buf = limited.directBuffer(1024, Integer.MAX_VALUE).writeLong(99);
            long address = buf.memoryAddress();
            assertThrows(OutOfMemoryError.class, () -> buf.capacity(64 << 20));
            assertEquals(1024, buf.capacity());
            assertEquals(address, buf.memoryAddress());
            assertEquals(99, buf.getLong(0));
            buf.release();
            assertEquals(0, small.stats().applicationBytes());
        } finally {
            small.close();
        }
    }

    @Test
    void aBufferDroppedWithoutReleaseIsReportedAsALeak() throws InterruptedException {
        if (!CountingLeakDetector.installed()) {
            System.out.println("SKIPPED leak report check: run with -Dio.netty.leakDetection.level=paranoid "
                    + "-Dio.netty.customResourceLeakDetector=" + CountingLeakDetector.class.getName());
            return;
        }
        long before = CountingLeakDetector.collectAndCount(alloc, Long.MAX_VALUE);
        dropWithoutRelease();
        assertNotEquals(before, CountingLeakDetector.collectAndCount(alloc, before),
                "Netty's leak detector did not report a buffer that was never released");
    }

    private void dropWithoutRelease() {
        alloc.directBuffer(128).writeLong(1);
    }
}
