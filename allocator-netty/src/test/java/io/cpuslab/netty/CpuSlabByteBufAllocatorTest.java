package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.MemoryCorruptionException;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    void usedDirectMemoryCountsTheBlocksCpuSlabHolds() {
        ByteBuf checked = alloc.directBuffer(1024);
        assertEquals(1152, alloc.metric().usedDirectMemory(), "the canary takes a 1024 B buffer to the next class");
        checked.release();

        try (OffHeapAllocator guarded = CpuSlab.builder().checked(false).guardSampleRate(1).build()) {
            CpuSlabByteBufAllocator sampled = new CpuSlabByteBufAllocator(guarded);
            ByteBuf buf = sampled.directBuffer(100);
            assertEquals(2 * 8192, sampled.metric().usedDirectMemory(), "a page of its own and a guard page");
            buf.release();
            assertEquals(0, sampled.metric().usedDirectMemory());
        }
    }

    @Test
    void anOverrunFoundOnReleaseIsReportedAndItsBlockKeptOutOfUse() {
        // Not leak-aware, so Netty does not later report the buffer whose release threw.
        ByteBuf buf = new CpuSlabDirectByteBuf(alloc, memory, 100, 100);
        MemorySegment.ofAddress(buf.memoryAddress() + 100).reinterpret(1).set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        assertThrows(MemoryCorruptionException.class, buf::release);
        assertEquals(0, buf.refCnt());
        assertThrows(IllegalReferenceCountException.class, buf::release, "the buffer is gone: no second free");
        assertTrue(inUse() > 0, "the damaged block stays allocated, out of use");
    }

    @Test
    void aReleaseAfterTheAllocatorClosedSaysSo() {
        for (boolean checked : new boolean[] {true, false}) {
            OffHeapAllocator closing = CpuSlab.builder().checked(checked).build();
            CpuSlabByteBufAllocator early = new CpuSlabByteBufAllocator(closing);
            ByteBuf small = new CpuSlabDirectByteBuf(early, closing, 100, 100);
            ByteBuf large = new CpuSlabDirectByteBuf(early, closing, 1 << 20, 1 << 20);
            closing.close();
            assertThrows(IllegalStateException.class, small::release, "checked " + checked);
            assertThrows(IllegalStateException.class, large::release, "checked " + checked);
        }
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
