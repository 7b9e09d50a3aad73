package io.cpuslab;

/**
 * Checked mode found a block whose memory was written where the application had no right to write:
 * past the size asked (checked mode's {@code usableSize}; the canary after it is broken, found when the block is freed) or after
 * it was freed (the poison written on free is broken, found when the block is handed out again). The
 * call that found it is rejected and changes nothing: an overrun block stays allocated, a block written
 * after free is never handed out again.
 *
 * <pre>{@code
 * OffHeapAllocator alloc = CpuSlab.builder().checked(true).build();
 * long p = alloc.malloc(24);
 * MemorySegment.ofAddress(p).reinterpret(alloc.usableSize(p) + 1).set(ValueLayout.JAVA_BYTE, alloc.usableSize(p), (byte) 1);
 * try {
 *     alloc.free(p);
 * } catch (MemoryCorruptionException e) {
 *     System.err.println(e.getMessage() + " at offset " + e.offset());   // names address, size class and size
 * }
 * }</pre>
 */
public final class MemoryCorruptionException extends IllegalStateException {
    private final long address;
    private final int sizeClass;
    private final long blockSize;
    private final long offset;

    /**
     * @param sizeClass 0 for a large block
     * @param blockSize the bytes the block occupies (its usable size plus the canary; the class size for a write after free)
     * @param offset    the first damaged byte, from the block's start
     */
    public MemoryCorruptionException(String what, long address, int sizeClass, long blockSize, long offset) {
        super(what + ": block 0x" + Long.toHexString(address) + " (size class " + sizeClass + ", " + blockSize
                + " bytes) damaged at offset " + offset);
        this.address = address;
        this.sizeClass = sizeClass;
        this.blockSize = blockSize;
        this.offset = offset;
    }

    public long address() {
        return address;
    }

    public int sizeClass() {
        return sizeClass;
    }

    public long blockSize() {
        return blockSize;
    }

    public long offset() {
        return offset;
    }
}
