package io.cpuslab.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract checks of Netty's own buffer tests (indexes, accessors, slices, duplicates, reference
 * counts, capacity changes, NIO views, bulk and channel I/O), written against the {@link ByteBuf} API
 * alone. Netty publishes no test jar, so its {@code AbstractByteBufTest} cannot be run as is; instead
 * the same checks run on cpuslab buffers and, as a reference that keeps the checks honest, on Netty's
 * own direct buffers. After every test the allocator's used direct memory must be back to zero.
 */
abstract class AbstractByteBufContractTest {

    private static final int CAPACITY = 4096;
    private static final int MAX_CAPACITY = 1 << 20;
    private static final long SEED = 0x5eed_cafeL;

    /** The allocator under test; it must serve only this test class. */
    protected abstract ByteBufAllocator allocator();

    private ByteBuf newBuffer(int capacity) {
        return allocator().directBuffer(capacity, MAX_CAPACITY);
    }

    @AfterEach
    void everyBufferWasReleased() {
        assertEquals(0, ((ByteBufAllocatorMetricProvider) allocator()).metric().usedDirectMemory(),
                "direct memory still in use after the test");
    }

    // ---- indexes ----

    @Test
    void newBufferStartsEmptyWithItsCapacities() {
        ByteBuf buf = newBuffer(CAPACITY);
        try {
            assertEquals(0, buf.readerIndex());
            assertEquals(0, buf.writerIndex());
            assertEquals(CAPACITY, buf.capacity());
            assertEquals(MAX_CAPACITY, buf.maxCapacity());
            assertTrue(buf.isDirect());
            assertFalse(buf.hasArray());
            assertEquals(1, buf.refCnt());
        } finally {
            buf.release();
        }
    }

    @Test
    void indexesOutsideTheirRangesAreRefused() {
        ByteBuf buf = newBuffer(CAPACITY);
        try {
            buf.writerIndex(CAPACITY);
            assertThrows(IndexOutOfBoundsException.class, () -> buf.writerIndex(CAPACITY + 1));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.readerIndex(-1));
            buf.writerIndex(10);
            assertThrows(IndexOutOfBoundsException.class, () -> buf.readerIndex(11));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.setIndex(5, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.getByte(CAPACITY));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.getInt(CAPACITY - 3));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.setLong(CAPACITY - 7, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.getShort(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.getBytes(CAPACITY - 1, new byte[2]));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.setBytes(0, new byte[4], 2, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.setZero(CAPACITY - 1, 2));
            buf.readerIndex(10);
            assertThrows(IndexOutOfBoundsException.class, buf::readByte);
        } finally {
            buf.release();
        }
    }

    @Test
    void sequentialWritesAreReadBackInOrder() {
        ByteBuf buf = newBuffer(CAPACITY);
        try {
            Random random = new Random(SEED);
            for (int i = 0; i < CAPACITY / 8; i++) {
                buf.writeLong(random.nextLong());
            }
            assertEquals(CAPACITY, buf.readableBytes());
            assertEquals(0, buf.writableBytes());
            random.setSeed(SEED);
            for (int i = 0; i < CAPACITY / 8; i++) {
                assertEquals(random.nextLong(), buf.readLong());
            }
            assertFalse(buf.isReadable());
        } finally {
            buf.release();
        }
    }

    @Test
    void valuesHaveNettysByteOrderAndSigns() {
        ByteBuf buf = newBuffer(64);
        try {
            buf.setInt(0, 0x01020304);
            assertEquals(1, buf.getByte(0));
            assertEquals(4, buf.getByte(3));
            assertEquals(0x04030201, buf.getIntLE(0));
            buf.setIntLE(0, 0x01020304);
            assertEquals(4, buf.getByte(0));
            buf.setMedium(8, 0x800001);
            assertEquals(0x80, buf.getUnsignedByte(8));
            assertEquals(-0x7fffff, buf.getMedium(8));
            assertEquals(0x800001, buf.getUnsignedMedium(8));
            buf.setMediumLE(12, 0x800001);
            assertEquals(1, buf.getByte(12));
            assertEquals(0x800001, buf.getUnsignedMediumLE(12));
            assertEquals(-0x7fffff, buf.getMediumLE(12));
            buf.setShort(16, 0xfffe);
            assertEquals(-2, buf.getShort(16));
            assertEquals(0xfffe, buf.getUnsignedShort(16));
            assertEquals((short) 0xfeff, buf.getShortLE(16));
            buf.setLong(24, 0x0102030405060708L);
            assertEquals(0x0807060504030201L, buf.getLongLE(24));
            buf.setLongLE(32, -2);
            assertEquals(-2, buf.getLongLE(32));
            buf.setInt(40, -1);
            assertEquals(0xffffffffL, buf.getUnsignedInt(40));
            buf.setDouble(48, Math.PI);
            assertEquals(Math.PI, buf.getDouble(48));
            buf.setFloat(56, 1.5f);
            assertEquals(1.5f, buf.getFloat(56));
            buf.setChar(60, 'λ');
            assertEquals('λ', buf.getChar(60));
        } finally {
            buf.release();
        }
    }

    @Test
    void discardReadBytesMovesTheUnreadPartToTheFront() {
        ByteBuf buf = newBuffer(64);
        try {
            for (int i = 0; i < 64; i++) {
                buf.writeByte(i);
            }
            buf.readerIndex(10);
            buf.markReaderIndex();
            buf.discardReadBytes();
            assertEquals(0, buf.readerIndex());
            assertEquals(54, buf.writerIndex());
            for (int i = 0; i < 54; i++) {
                assertEquals(i + 10, buf.getByte(i));
            }
        } finally {
            buf.release();
        }
    }

    @Test
    void searchesAndComparisonsAgreeWithAHeapCopy() {
        ByteBuf buf = newBuffer(256);
        ByteBuf heap = Unpooled.buffer(256);
        try {
            byte[] text = "netty echo over cpuslab memory\n".getBytes(StandardCharsets.US_ASCII);
            buf.writeBytes(text);
            heap.writeBytes(text);
            assertEquals(heap.indexOf(0, text.length, (byte) '\n'), buf.indexOf(0, text.length, (byte) '\n'));
            assertEquals(heap.bytesBefore((byte) 'c'), buf.bytesBefore((byte) 'c'));
            assertEquals(heap.forEachByteDesc(b -> b != 'o'), buf.forEachByteDesc(b -> b != 'o'));
            assertTrue(ByteBufUtil.equals(heap, buf));
            assertEquals(heap, buf);
            assertEquals(heap.hashCode(), buf.hashCode());
            assertEquals(0, buf.compareTo(heap));
            assertEquals(heap.toString(StandardCharsets.US_ASCII), buf.toString(StandardCharsets.US_ASCII));
        } finally {
            buf.release();
            heap.release();
        }
    }

    @Test
    void charSequencesRoundTripInUtf8AndAscii() {
        ByteBuf buf = newBuffer(16);
        try {
            String text = "größer als 8 KiB? nein — λ";
            int written = buf.writeCharSequence(text, StandardCharsets.UTF_8);
            assertEquals(text.getBytes(StandardCharsets.UTF_8).length, written);
            assertEquals(text, buf.readCharSequence(written, StandardCharsets.UTF_8).toString());
            buf.clear();
            ByteBufUtil.writeAscii(buf, "plain");
            assertEquals("plain", buf.toString(StandardCharsets.US_ASCII));
        } finally {
            buf.release();
        }
    }

    // ---- slices and duplicates ----

    @Test
    void slicesShareContentAndReferenceCount() {
        ByteBuf buf = newBuffer(64);
        try {
            buf.writeZero(64);
            ByteBuf slice = buf.slice(8, 16);
            assertEquals(16, slice.capacity());
            assertEquals(16, slice.writerIndex());
            slice.setInt(0, 0xcafebabe);
            assertEquals(0xcafebabe, buf.getInt(8));
            buf.setByte(23, 7);
            assertEquals(7, slice.getByte(15));
            ByteBuf nested = slice.slice(4, 8);
            buf.setLong(12, 42);
            assertEquals(42, nested.getLong(0));
            assertThrows(IndexOutOfBoundsException.class, () -> slice.getByte(16));
            assertThrows(IndexOutOfBoundsException.class, () -> buf.slice(60, 8));
            ByteBuf retained = buf.retainedSlice(0, 8);
            assertEquals(2, buf.refCnt());
            assertTrue(retained.isDirect());
            retained.release();
            assertEquals(1, buf.refCnt());
        } finally {
            buf.release();
        }
    }

    @Test
    void duplicatesShareContentButNotIndexes() {
        ByteBuf buf = newBuffer(64);
        try {
            buf.writeLong(1).writeLong(2);
            ByteBuf dup = buf.duplicate();
            assertEquals(buf.writerIndex(), dup.writerIndex());
            assertEquals(1, dup.readLong());
            assertEquals(0, buf.readerIndex());
            dup.setLong(0, 9);
            assertEquals(9, buf.getLong(0));
            ByteBuf retained = buf.retainedDuplicate();
            assertEquals(2, buf.refCnt());
            retained.release();
            assertEquals(1, buf.refCnt());
        } finally {
            buf.release();
        }
    }

    @Test
    void copiesAreIndependentDirectBuffers() {
        ByteBuf buf = newBuffer(32);
        try {
            buf.writeLong(5).writeLong(6);
            ByteBuf copy = buf.copy(8, 8);
            try {
                assertTrue(copy.isDirect());
                assertEquals(6, copy.getLong(0));
                buf.setLong(8, 7);
                assertEquals(6, copy.getLong(0));
            } finally {
                copy.release();
            }
        } finally {
            buf.release();
        }
    }

    // ---- reference counts ----

    @Test
    void retainAndReleaseCountAndTheLastReleaseEndsAccess() {
        ByteBuf buf = newBuffer(16);
        assertSame(buf, buf.retain());
        assertEquals(2, buf.refCnt());
        assertFalse(buf.release());
        assertEquals(1, buf.refCnt());
        assertTrue(buf.release());
        assertEquals(0, buf.refCnt());
        assertThrows(IllegalReferenceCountException.class, () -> buf.getByte(0));
        assertThrows(IllegalReferenceCountException.class, () -> buf.setByte(0, 1));
        assertThrows(IllegalReferenceCountException.class, buf::retain);
        assertThrows(IllegalReferenceCountException.class, buf::release);
        assertThrows(IllegalReferenceCountException.class, buf::memoryAddress);
    }

    @Test
    void releaseByCountFreesOnlyAtZero() {
        ByteBuf buf = newBuffer(16);
        buf.retain(3);
        assertFalse(buf.release(2));
        assertThrows(IllegalReferenceCountException.class, () -> buf.release(3));
        assertEquals(2, buf.refCnt());
        assertTrue(buf.release(2));
    }

    // ---- capacity ----

    @Test
    void growingKeepsContentAndIndexes() {
        ByteBuf buf = newBuffer(16);
        try {
            buf.writeLong(11).writeLong(12);
            buf.readerIndex(8);
            buf.capacity(100_000);
            assertEquals(100_000, buf.capacity());
            assertEquals(8, buf.readerIndex());
            assertEquals(16, buf.writerIndex());
            assertEquals(11, buf.getLong(0));
            assertEquals(12, buf.getLong(8));
            buf.setLong(99_992, 13);
            assertEquals(13, buf.getLong(99_992));
        } finally {
            buf.release();
        }
    }

    @Test
    void shrinkingKeepsThePrefixAndTrimsIndexes() {
        ByteBuf buf = newBuffer(64);
        try {
            for (int i = 0; i < 64; i++) {
                buf.writeByte(i);
            }
            buf.readerIndex(40);
            buf.capacity(32);
            assertEquals(32, buf.capacity());
            assertEquals(32, buf.readerIndex());
            assertEquals(32, buf.writerIndex());
            for (int i = 0; i < 32; i++) {
                assertEquals(i, buf.getByte(i));
            }
            assertThrows(IllegalArgumentException.class, () -> buf.capacity(MAX_CAPACITY + 1));
            assertThrows(IllegalArgumentException.class, () -> buf.capacity(-1));
        } finally {
            buf.release();
        }
    }

    @Test
    void writingPastCapacityGrowsUpToMaxCapacityOnly() {
        ByteBuf buf = allocator().directBuffer(8, 64);
        try {
            for (int i = 0; i < 64; i++) {
                buf.writeByte(i);
            }
            assertEquals(64, buf.capacity());
            for (int i = 0; i < 64; i++) {
                assertEquals(i, buf.getByte(i));
            }
            assertThrows(IndexOutOfBoundsException.class, () -> buf.writeByte(0));
            assertEquals(1, buf.ensureWritable(1, false));
            assertEquals(0, buf.ensureWritable(0, false));
        } finally {
            buf.release();
        }
    }

    // ---- NIO views and bulk I/O ----

    @Test
    void nioBuffersAreDirectViewsOfTheReadableBytes() {
        ByteBuf buf = newBuffer(64);
        try {
            buf.writeLong(1).writeLong(2).writeLong(3);
            buf.readerIndex(8);
            assertEquals(1, buf.nioBufferCount());
            ByteBuffer nio = buf.nioBuffer();
            assertTrue(nio.isDirect());
            assertEquals(16, nio.remaining());
            assertEquals(2, nio.getLong(nio.position()));
            nio.putLong(nio.position(), 20);
            assertEquals(20, buf.getLong(8));
            ByteBuffer[] all = buf.nioBuffers(0, 24);
            assertEquals(1, all.length);
            assertEquals(24, all[0].remaining());
            ByteBuffer internal = buf.internalNioBuffer(4, 12);
            assertEquals(4, internal.position());
            assertEquals(16, internal.limit());
            assertThrows(IndexOutOfBoundsException.class, () -> buf.nioBuffer(60, 8));
        } finally {
            buf.release();
        }
    }

    @Test
    void byteBuffersOfEveryKindCopyBothWays() {
        ByteBuf buf = newBuffer(64);
        try {
            for (ByteBuffer other : new ByteBuffer[] {ByteBuffer.allocate(16), ByteBuffer.allocateDirect(16)}) {
                for (int i = 0; i < 16; i++) {
                    other.put(i, (byte) (i * 3));
                }
                buf.setBytes(4, other);
                assertEquals(16, other.position());
                other.clear();
                assertEquals(other.get(5), buf.getByte(9));
                ByteBuffer back = ByteBuffer.allocate(16);
                buf.getBytes(4, back);
                back.flip();
                assertEquals(other.rewind(), back);
            }
            assertThrows(ReadOnlyBufferException.class,
                    () -> buf.getBytes(0, ByteBuffer.allocate(8).asReadOnlyBuffer()));
        } finally {
            buf.release();
        }
    }

    @Test
    void byteBufsOfEveryKindCopyBothWays() {
        ByteBuf buf = newBuffer(64);
        ByteBuf own = newBuffer(64);
        CompositeByteBuf composite = Unpooled.compositeBuffer()
                .addComponent(true, Unpooled.buffer(32).writeZero(32))
                .addComponent(true, Unpooled.directBuffer(32).writeZero(32));
        ByteBuf[] others = {Unpooled.buffer(64), Unpooled.directBuffer(64), composite, own};
        try {
            Random random = new Random(SEED);
            for (ByteBuf other : others) {
                byte[] bytes = new byte[64];
                random.nextBytes(bytes);
                other.setBytes(0, bytes);
                buf.setBytes(0, other, 0, 64);
                byte[] seen = new byte[64];
                buf.getBytes(0, seen);
                assertArrayEquals(bytes, seen);
                if (other != composite) {    // Netty's own direct buffer throws here (CompositeByteBuf.internalNioBuffer)
                    buf.setLong(8, 77);
                    buf.getBytes(8, other, 40, 8);
                    assertEquals(77, other.getLong(40));
                }
            }
        } finally {
            buf.release();
            for (ByteBuf other : others) {
                other.release();
            }
        }
    }

    @Test
    void streamsCopyBothWaysAndReportTheEnd() throws IOException {
        ByteBuf buf = newBuffer(20_000);
        try {
            byte[] bytes = new byte[20_000];
            new Random(SEED).nextBytes(bytes);
            assertEquals(20_000, buf.setBytes(0, new ByteArrayInputStream(bytes), 20_000));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            buf.getBytes(0, out, 20_000);
            assertArrayEquals(bytes, out.toByteArray());
            assertEquals(-1, buf.setBytes(0, new ByteArrayInputStream(new byte[0]), 10));
        } finally {
            buf.release();
        }
    }

    @Test
    void channelsCopyBothWays(@TempDir Path dir) throws IOException {
        ByteBuf out = newBuffer(10_000);
        ByteBuf in = newBuffer(10_000);
        try (FileChannel file = FileChannel.open(dir.resolve("bytes"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            byte[] bytes = new byte[10_000];
            new Random(SEED).nextBytes(bytes);
            out.writeBytes(bytes);
            assertEquals(4_000, out.getBytes(0, file, 0, 4_000));
            assertEquals(0, out.readerIndex());
            out.readerIndex(4_000);
            assertEquals(6_000, out.readBytes(file, 4_000, 6_000));
            assertEquals(10_000, out.readerIndex());
            file.position(0);
            int read = 0;
            while (read < 10_000) {
                read += in.setBytes(read, file, read, 10_000 - read);
            }
            byte[] seen = new byte[10_000];
            in.getBytes(0, seen);
            assertArrayEquals(bytes, seen);
            in.writerIndex(0);
            file.position(0);
            assertEquals(10_000, in.writeBytes(file, 10_000));
            assertEquals(10_000, in.writerIndex());
        } finally {
            out.release();
            in.release();
        }
    }

    // ---- everything at once, against a heap buffer ----

    @Test
    void randomAccessesMatchAHeapBufferByteForByte() {
        Random random = new Random(SEED);
        ByteBuf buf = newBuffer(256);
        ByteBuf heap = Unpooled.buffer(256, MAX_CAPACITY);
        try {
            buf.setZero(0, buf.capacity());                 // a direct buffer starts undefined, a heap one zeroed
            for (int step = 0; step < 50_000; step++) {
                int index = random.nextInt(buf.capacity() - 8);
                long value = random.nextLong();
                switch (random.nextInt(14)) {
                    case 0 -> { buf.setByte(index, (int) value); heap.setByte(index, (int) value); }
                    case 1 -> { buf.setShort(index, (int) value); heap.setShort(index, (int) value); }
                    case 2 -> { buf.setShortLE(index, (int) value); heap.setShortLE(index, (int) value); }
                    case 3 -> { buf.setMedium(index, (int) value); heap.setMedium(index, (int) value); }
                    case 4 -> { buf.setMediumLE(index, (int) value); heap.setMediumLE(index, (int) value); }
                    case 5 -> { buf.setInt(index, (int) value); heap.setInt(index, (int) value); }
                    case 6 -> { buf.setIntLE(index, (int) value); heap.setIntLE(index, (int) value); }
                    case 7 -> { buf.setLong(index, value); heap.setLong(index, value); }
                    case 8 -> { buf.setLongLE(index, value); heap.setLongLE(index, value); }
                    case 9 -> {
                        int length = random.nextInt(buf.capacity() - index);
                        buf.setZero(index, length);
                        heap.setZero(index, length);
                    }
                    case 10 -> {
                        int oldCapacity = buf.capacity();
                        int newCapacity = 16 + random.nextInt(4096);
                        buf.capacity(newCapacity);
                        heap.capacity(newCapacity);
                        if (newCapacity > oldCapacity) {    // grown bytes are undefined in a direct buffer
                            buf.setZero(oldCapacity, newCapacity - oldCapacity);
                            heap.setZero(oldCapacity, newCapacity - oldCapacity);
                        }
                    }
                    default -> {
                        assertEquals(heap.getByte(index), buf.getByte(index));
                        assertEquals(heap.getUnsignedMedium(index), buf.getUnsignedMedium(index));
                        assertEquals(heap.getMediumLE(index), buf.getMediumLE(index));
                        assertEquals(heap.getShortLE(index), buf.getShortLE(index));
                        assertEquals(heap.getInt(index), buf.getInt(index));
                        assertEquals(heap.getIntLE(index), buf.getIntLE(index));
                        assertEquals(heap.getLong(index), buf.getLong(index));
                        assertEquals(heap.getLongLE(index), buf.getLongLE(index));
                    }
                }
                if (random.nextInt(1000) == 0) {
                    assertContentEquals(heap, buf);
                }
            }
            assertContentEquals(heap, buf);
        } finally {
            buf.release();
            heap.release();
        }
    }

    private static void assertContentEquals(ByteBuf expected, ByteBuf actual) {
        assertEquals(expected.capacity(), actual.capacity());
        byte[] want = new byte[expected.capacity()];
        byte[] seen = new byte[actual.capacity()];
        expected.getBytes(0, want);
        actual.getBytes(0, seen);
        assertArrayEquals(want, seen);
    }
}
