package io.cpuslab.core;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Fills a block with words derived from its own address and checks them later: two live blocks that
 * overlap, or an allocator that writes into a block it handed out, show up as a mismatch. Used by the
 * soak command ({@code ./cpuslab stress}) and the concurrency tests.
 *
 * <pre>{@code
 * long p = allocator.malloc(size);
 * BlockPattern.fill(p, size);
 * ...
 * String broken = BlockPattern.check(p, size);   // null when intact
 * }</pre>
 */
public final class BlockPattern {
    /** Blocks up to this size get every word written; larger ones every {@link #SPARSE_STRIDE}th byte. */
    private static final long DENSE_LIMIT = 16 * 1024;
    private static final long SPARSE_STRIDE = 4096;

    private BlockPattern() {
    }

    private static long word(long base, long offset) {
        return (base * 0x9E3779B97F4A7C15L) ^ offset;
    }

    private static long stride(long size) {
        return size <= DENSE_LIMIT ? 8 : SPARSE_STRIDE;
    }

    public static void fill(long address, long size) {
        MemorySegment block = MemorySegment.ofAddress(address).reinterpret(size);
        for (long offset = 0; offset + 16 <= size; offset += stride(size)) { // stops short of the last word
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, word(address, offset));
        }
        if (size >= 8) {
            block.set(ValueLayout.JAVA_LONG_UNALIGNED, size - 8, word(address, size - 8));
        }
    }

    /** Null when intact, else what is wrong, with the address. */
    public static String check(long address, long size) {
        MemorySegment block = MemorySegment.ofAddress(address).reinterpret(size);
        for (long offset = 0; offset + 16 <= size; offset += stride(size)) {
            if (block.get(ValueLayout.JAVA_LONG_UNALIGNED, offset) != word(address, offset)) {
                return "block 0x" + Long.toHexString(address) + " (" + size + " B) corrupted at offset " + offset;
            }
        }
        if (size >= 8 && block.get(ValueLayout.JAVA_LONG_UNALIGNED, size - 8) != word(address, size - 8)) {
            return "block 0x" + Long.toHexString(address) + " (" + size + " B) corrupted at its last word";
        }
        return null;
    }
}
