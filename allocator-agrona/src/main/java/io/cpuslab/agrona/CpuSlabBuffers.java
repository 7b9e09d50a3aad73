package io.cpuslab.agrona;

import io.cpuslab.OffHeapAllocator;
import org.agrona.BitUtil;
import org.agrona.DirectBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Objects;

/**
 * Agrona buffers over cpuslab memory, and the owner of that memory: every buffer this class hands out
 * is freed by {@link #free} (from any thread) or, at the latest, by {@link #close()}.
 *
 * <p>The buffers are {@link UnsafeBuffer}s, so they are {@link AtomicBuffer}s as well (ordered,
 * volatile and CAS accessors, which need 8-byte alignment: every buffer is at least
 * {@value #DEFAULT_ALIGNMENT}-byte aligned). Their memory is zeroed, as Agrona's ring buffers and
 * counters expect. Agrona 2.x reaches memory through {@code jdk.internal.misc.Unsafe}, so on JDK 25
 * the JVM needs {@code --add-opens java.base/jdk.internal.misc=ALL-UNNAMED} (and
 * {@code --enable-native-access=ALL-UNNAMED} for cpuslab).
 *
 * <pre>{@code
 * try (CpuSlabBuffers buffers = new CpuSlabBuffers(CpuSlab.global())) {
 *     UnsafeBuffer buffer = buffers.allocate(4096);
 *     buffer.putLong(0, 42);
 *     buffer.getAndAddLong(8, 1);                      // atomic, on cpuslab memory
 *     AtomicBuffer ring = buffers.allocateAligned(64 * 1024 + RingBufferDescriptor.TRAILER_LENGTH, 64);
 *     ManyToOneRingBuffer queue = new ManyToOneRingBuffer(ring);
 *     buffers.free(buffer);                            // or leave it to close()
 * }
 * }</pre>
 *
 * <p>Bad input: a negative length or an alignment that is not a power of two throws
 * {@link IllegalArgumentException}; freeing a buffer this object does not own (never handed out,
 * already freed, a sub-view at another address, an on-heap buffer) throws
 * {@link IllegalArgumentException} and frees nothing; any call after {@link #close()} throws
 * {@link IllegalStateException}. A freed {@link UnsafeBuffer} is re-wrapped to an empty array, so a
 * later access fails the bounds check instead of touching freed memory.
 */
public final class CpuSlabBuffers implements AutoCloseable {

    /** Alignment of {@link #allocate}: enough for every atomic accessor of {@link AtomicBuffer}. */
    public static final int DEFAULT_ALIGNMENT = 16;

    private static final byte[] NO_BYTES = new byte[0];
    private static final long ABSENT = -1;

    private final OffHeapAllocator memory;
    /** Address of every live buffer, mapped to its length; guarded by {@code this}. */
    private Long2LongHashMap live = new Long2LongHashMap(ABSENT);
    private long liveBytes;
    private boolean closed;

    /** @param memory where buffers live; this object frees its own buffers but never closes {@code memory} */
    public CpuSlabBuffers(OffHeapAllocator memory) {
        this.memory = Objects.requireNonNull(memory, "memory");
    }

    /** A zeroed buffer of {@code length} bytes, {@value #DEFAULT_ALIGNMENT}-byte aligned. */
    public UnsafeBuffer allocate(int length) {
        return allocateAligned(length, DEFAULT_ALIGNMENT);
    }

    /** A zeroed buffer of {@code length} bytes at an address that is a multiple of {@code alignment}. */
    public UnsafeBuffer allocateAligned(int length, int alignment) {
        if (length < 0) {
            throw new IllegalArgumentException("length must be >= 0: " + length);
        }
        if (!BitUtil.isPowerOfTwo(alignment)) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        long address = memory.mallocAligned(length, Math.max(alignment, DEFAULT_ALIGNMENT));
        synchronized (this) {
            if (closed) {
                memory.free(address);
                throw closedError();
            }
            live.put(address, length);
            liveBytes += length;
        }
        UnsafeBuffer buffer = new UnsafeBuffer(address, length);
        buffer.setMemory(0, length, (byte) 0);
        return buffer;
    }

    /**
     * Frees a buffer from {@link #allocate}/{@link #allocateAligned}, from any thread. The buffer may be
     * another view starting at the same address; an {@link UnsafeBuffer} is emptied.
     */
    public void free(DirectBuffer buffer) {
        if (buffer.byteArray() != null || buffer.byteBuffer() != null && !buffer.byteBuffer().isDirect()) {
            throw new IllegalArgumentException("not an off-heap buffer: " + buffer);
        }
        long address = buffer.addressOffset();
        long length;
        synchronized (this) {
            if (closed) {
                throw closedError();
            }
            length = live.remove(address);
            if (length == ABSENT) {
                throw new IllegalArgumentException("not a live buffer of this owner: address 0x" + Long.toHexString(address)
                        + " (never handed out, already freed, or a view that does not start at the block)");
            }
            liveBytes -= length;
        }
        if (buffer instanceof UnsafeBuffer unsafe) {
            unsafe.wrap(NO_BYTES);
        }
        memory.free(address);
    }

    /** Buffers handed out and not freed. */
    public synchronized int liveBuffers() {
        return live.size();
    }

    /** Bytes of the buffers handed out and not freed (their lengths, not cpuslab's rounded blocks). */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** Frees every buffer not freed yet; their views must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        Long2LongHashMap remaining;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            remaining = live;
            live = new Long2LongHashMap(ABSENT);
            liveBytes = 0;
        }
        remaining.forEachLong((address, length) -> memory.free(address));
    }

    private static IllegalStateException closedError() {
        return new IllegalStateException("CpuSlabBuffers is closed");
    }
}
