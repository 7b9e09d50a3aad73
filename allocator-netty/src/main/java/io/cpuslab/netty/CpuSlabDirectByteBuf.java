package io.cpuslab.netty;

import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.AbstractReferenceCountedByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * A direct {@link ByteBuf} over one cpuslab block: a raw address and a capacity, nothing else.
 *
 * <p>Why not one of Netty's own direct buffers: {@code UnpooledDirectByteBuf}'s hook
 * ({@code allocateDirectBuffer}) wants a {@link ByteBuffer} and a cleaner object for every buffer, and
 * the Unsafe-based classes do not work on JDK 25 with Netty's defaults (Unsafe is off). Here every
 * access goes through one {@code static final} {@link MemorySegment} that spans the whole address
 * space, indexed by {@code address + index}: a constant the JIT can fold, in the global scope (so no
 * liveness check), and no Unsafe; a buffer is one small object. A {@link ByteBuffer} view is made only when
 * someone asks for NIO buffers (the NIO transport does per write; epoll uses {@link #memoryAddress()}),
 * and the one for {@link #internalNioBuffer} is kept until the block moves.
 *
 * <p>Bounds and reference counts are checked by {@code AbstractByteBuf} before every {@code _get}/
 * {@code _set}; the bulk methods here check their own ranges. {@link #capacity(int)} resizes with
 * {@link OffHeapAllocator#realloc} (in place when the block's size class allows it), and the last
 * {@link #release()} gives the block back with {@link OffHeapAllocator#free(long)}, from any thread.
 *
 * <pre>{@code
 * ByteBufAllocator alloc = new CpuSlabByteBufAllocator(CpuSlab.global());
 * ByteBuf buf = alloc.directBuffer(256);          // a CpuSlabDirectByteBuf (leak-aware when sampled)
 * buf.writeLong(42).writeBytes(payload);
 * buf.release();                                  // the block goes back to cpuslab
 * }</pre>
 */
final class CpuSlabDirectByteBuf extends AbstractReferenceCountedByteBuf {

    /** Every byte of the address space; accesses are bounded by the buffer's own checks. */
    private static final MemorySegment MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final ValueLayout.OfShort SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes moved per step when copying to a stream, so a huge request needs no huge array. */
    private static final int STREAM_CHUNK = 8192;

    private final CpuSlabByteBufAllocator alloc;
    private final OffHeapAllocator memory;
    private long address;
    private int capacity;
    /** The view {@link #internalNioBuffer} hands out; dropped when the block moves. */
    private ByteBuffer internalNio;

    CpuSlabDirectByteBuf(CpuSlabByteBufAllocator alloc, OffHeapAllocator memory, int initialCapacity, int maxCapacity) {
        super(maxCapacity);     // AbstractByteBufAllocator has checked 0 <= initialCapacity <= maxCapacity
        this.alloc = alloc;
        this.memory = memory;
        this.address = memory.malloc(initialCapacity);
        this.capacity = initialCapacity;
    }

    @Override
    protected void deallocate() {
        internalNio = null;
        // The unsized free, because it has no size to get wrong. freeSized(address, capacity) would follow
        // the rule in OffHeapAllocator#freeSized (capacity is the size last asked of malloc or realloc), but a
        // slip there throws in checked mode and, on the locked front end, silently files the block under
        // another class. On the rseq front end freeSized is this same call; elsewhere free costs one page-map
        // lookup more, small beside a release's reference-count update.
        // Nothing free can throw leaves behind a block that should go back: after close the memory is the
        // OS's again, an overrun found in checked mode (MemoryCorruptionException) keeps its block out of use
        // on purpose, and an address freed behind the buffer's back is no longer its block. So release()
        // passes the exception on, as the report it is.
        memory.free(address);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public ByteBuf capacity(int newCapacity) {
        checkNewCapacity(newCapacity);
        if (newCapacity == capacity) {
            return this;
        }
        // realloc keeps the old block when it throws, so a failed resize leaves the buffer as it was.
        address = memory.realloc(address, newCapacity);
        if (newCapacity < capacity) {
            trimIndicesToCapacity(newCapacity);
        }
        capacity = newCapacity;
        internalNio = null;
        return this;
    }

    @Override
    public ByteBufAllocator alloc() {
        return alloc;
    }

    @Override
    public ByteOrder order() {
        return ByteOrder.BIG_ENDIAN;
    }

    @Override
    public ByteBuf unwrap() {
        return null;
    }

    @Override
    public boolean isDirect() {
        return true;
    }

    @Override
    public boolean isContiguous() {
        return true;
    }

    @Override
    public boolean hasArray() {
        return false;
    }

    @Override
    public byte[] array() {
        throw new UnsupportedOperationException("direct buffer");
    }

    @Override
    public int arrayOffset() {
        throw new UnsupportedOperationException("direct buffer");
    }

    @Override
    public boolean hasMemoryAddress() {
        return true;
    }

    @Override
    public long memoryAddress() {
        ensureAccessible();
        return address;
    }

    // ---- single values: AbstractByteBuf has checked the index and the reference count ----

    @Override
    protected byte _getByte(int index) {
        return MEMORY.get(ValueLayout.JAVA_BYTE, address + index);
    }

    @Override
    protected short _getShort(int index) {
        return MEMORY.get(SHORT_BE, address + index);
    }

    @Override
    protected short _getShortLE(int index) {
        return MEMORY.get(SHORT_LE, address + index);
    }

    @Override
    protected int _getUnsignedMedium(int index) {
        return (_getByte(index) & 0xff) << 16 | (_getShort(index + 1) & 0xffff);
    }

    @Override
    protected int _getUnsignedMediumLE(int index) {
        return (_getShortLE(index) & 0xffff) | (_getByte(index + 2) & 0xff) << 16;
    }

    @Override
    protected int _getInt(int index) {
        return MEMORY.get(INT_BE, address + index);
    }

    @Override
    protected int _getIntLE(int index) {
        return MEMORY.get(INT_LE, address + index);
    }

    @Override
    protected long _getLong(int index) {
        return MEMORY.get(LONG_BE, address + index);
    }

    @Override
    protected long _getLongLE(int index) {
        return MEMORY.get(LONG_LE, address + index);
    }

    @Override
    protected void _setByte(int index, int value) {
        MEMORY.set(ValueLayout.JAVA_BYTE, address + index, (byte) value);
    }

    @Override
    protected void _setShort(int index, int value) {
        MEMORY.set(SHORT_BE, address + index, (short) value);
    }

    @Override
    protected void _setShortLE(int index, int value) {
        MEMORY.set(SHORT_LE, address + index, (short) value);
    }

    @Override
    protected void _setMedium(int index, int value) {
        _setByte(index, value >>> 16);
        _setShort(index + 1, value);
    }

    @Override
    protected void _setMediumLE(int index, int value) {
        _setShortLE(index, value);
        _setByte(index + 2, value >>> 16);
    }

    @Override
    protected void _setInt(int index, int value) {
        MEMORY.set(INT_BE, address + index, value);
    }

    @Override
    protected void _setIntLE(int index, int value) {
        MEMORY.set(INT_LE, address + index, value);
    }

    @Override
    protected void _setLong(int index, long value) {
        MEMORY.set(LONG_BE, address + index, value);
    }

    @Override
    protected void _setLongLE(int index, long value) {
        MEMORY.set(LONG_LE, address + index, value);
    }

    // ---- bulk reads ----

    @Override
    public ByteBuf getBytes(int index, ByteBuf dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.capacity());
        if (dst.hasArray()) {
            copyOut(index, dst.array(), dst.arrayOffset() + dstIndex, length);
        } else if (dst.hasMemoryAddress()) {
            MemorySegment.copy(MEMORY, address + index, MEMORY, dst.memoryAddress() + dstIndex, length);
        } else if (dst.nioBufferCount() > 0) {
            for (ByteBuffer part : dst.nioBuffers(dstIndex, length)) {
                int bytes = part.remaining();
                getBytes(index, part);
                index += bytes;
            }
        } else {
            dst.setBytes(dstIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, byte[] dst, int dstIndex, int length) {
        checkDstIndex(index, length, dstIndex, dst.length);
        copyOut(index, dst, dstIndex, length);
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, ByteBuffer dst) {
        int length = dst.remaining();
        checkIndex(index, length);
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        MemorySegment.copy(MEMORY, address + index, MemorySegment.ofBuffer(dst), 0, length);
        dst.position(dst.position() + length);
        return this;
    }

    @Override
    public ByteBuf getBytes(int index, OutputStream out, int length) throws IOException {
        checkIndex(index, length);
        byte[] chunk = new byte[Math.min(length, STREAM_CHUNK)];
        for (int done = 0; done < length; ) {
            int bytes = Math.min(chunk.length, length - done);
            copyOut(index + done, chunk, 0, bytes);
            out.write(chunk, 0, bytes);
            done += bytes;
        }
        return this;
    }

    @Override
    public int getBytes(int index, GatheringByteChannel out, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(view(index, length));
    }

    @Override
    public int getBytes(int index, FileChannel out, long position, int length) throws IOException {
        checkIndex(index, length);
        return length == 0 ? 0 : out.write(view(index, length), position);
    }

    /** Moves the reader index past what the channel took; the kept view saves a ByteBuffer per write. */
    @Override
    public int readBytes(GatheringByteChannel out, int length) throws IOException {
        checkReadableBytes(length);
        int written = length == 0 ? 0 : out.write(internalNioBuffer(readerIndex(), length));
        readerIndex(readerIndex() + written);
        return written;
    }

    @Override
    public int readBytes(FileChannel out, long position, int length) throws IOException {
        checkReadableBytes(length);
        int written = length == 0 ? 0 : out.write(internalNioBuffer(readerIndex(), length), position);
        readerIndex(readerIndex() + written);
        return written;
    }

    // ---- bulk writes ----

    @Override
    public ByteBuf setBytes(int index, ByteBuf src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.capacity());
        if (src.hasArray()) {
            copyIn(src.array(), src.arrayOffset() + srcIndex, index, length);
        } else if (src.hasMemoryAddress()) {
            MemorySegment.copy(MEMORY, src.memoryAddress() + srcIndex, MEMORY, address + index, length);
        } else if (src.nioBufferCount() > 0) {
            for (ByteBuffer part : src.nioBuffers(srcIndex, length)) {
                int bytes = part.remaining();
                setBytes(index, part);
                index += bytes;
            }
        } else {
            src.getBytes(srcIndex, this, index, length);
        }
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, byte[] src, int srcIndex, int length) {
        checkSrcIndex(index, length, srcIndex, src.length);
        copyIn(src, srcIndex, index, length);
        return this;
    }

    @Override
    public ByteBuf setBytes(int index, ByteBuffer src) {
        int length = src.remaining();
        checkIndex(index, length);
        // copy() has memmove semantics, so src may be a view of this very buffer.
        MemorySegment.copy(MemorySegment.ofBuffer(src), 0, MEMORY, address + index, length);
        src.position(src.limit());
        return this;
    }

    /** Like Netty's own buffers: one {@code read} call, returning what it returned. */
    @Override
    public int setBytes(int index, InputStream in, int length) throws IOException {
        checkIndex(index, length);
        byte[] chunk = new byte[length];
        int read = in.read(chunk, 0, length);
        if (read > 0) {
            copyIn(chunk, 0, index, read);
        }
        return read;
    }

    @Override
    public int setBytes(int index, ScatteringByteChannel in, int length) throws IOException {
        checkIndex(index, length);
        try {
            return in.read(internalNioBuffer(index, length));
        } catch (ClosedChannelException e) {
            return -1;
        }
    }

    @Override
    public int setBytes(int index, FileChannel in, long position, int length) throws IOException {
        checkIndex(index, length);
        try {
            return in.read(internalNioBuffer(index, length), position);
        } catch (ClosedChannelException e) {
            return -1;
        }
    }

    @Override
    public ByteBuf setZero(int index, int length) {
        checkIndex(index, length);
        MEMORY.asSlice(address + index, length).fill((byte) 0);
        return this;
    }

    @Override
    public ByteBuf copy(int index, int length) {
        checkIndex(index, length);
        return alloc.directBuffer(length, maxCapacity()).writeBytes(this, index, length);
    }

    // ---- NIO views ----

    @Override
    public int nioBufferCount() {
        return 1;
    }

    @Override
    public ByteBuffer nioBuffer(int index, int length) {
        checkIndex(index, length);
        return view(index, length);
    }

    @Override
    public ByteBuffer[] nioBuffers(int index, int length) {
        return new ByteBuffer[] {nioBuffer(index, length)};
    }

    @Override
    public ByteBuffer internalNioBuffer(int index, int length) {
        checkIndex(index, length);
        ByteBuffer whole = internalNio;
        if (whole == null) {
            whole = view(0, capacity);
            internalNio = whole;
        }
        return whole.clear().position(index).limit(index + length);
    }

    private ByteBuffer view(int index, int length) {
        return MEMORY.asSlice(address + index, length).asByteBuffer();
    }

    private void copyOut(int index, byte[] dst, int dstIndex, int length) {
        MemorySegment.copy(MEMORY, ValueLayout.JAVA_BYTE, address + index, dst, dstIndex, length);
    }

    private void copyIn(byte[] src, int srcIndex, int index, int length) {
        MemorySegment.copy(src, srcIndex, MEMORY, ValueLayout.JAVA_BYTE, address + index, length);
    }
}
