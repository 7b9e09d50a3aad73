package io.cpuslab.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Checked mode's marks in user memory: a canary right after the size asked for each block (broken by
 * an overrun) and poison over every freed small block (broken by a write after free). Nothing here is
 * allocator metadata: damage to these marks is reported, it never corrupts the allocator.
 *
 * <pre>{@code
 * BlockChecks.armCanary(block, canaryOffset, address);   // on malloc
 * long bad = BlockChecks.brokenCanary(block, canaryOffset, address);   // on free: -1 when intact
 * BlockChecks.poison(block);                               // on free
 * long first = BlockChecks.firstUnpoisoned(block);         // on reuse: -1 when intact
 * }</pre>
 */
final class BlockChecks {
    /** Bytes of canary right after the size asked, in checked mode: any overrun touches its first byte. */
    static final long CANARY_BYTES = 8;
    /** Mixed with the block address, so a canary copied from another block does not pass. */
    private static final long CANARY_SEED = 0xC0FFEE_5EED_CA4A27L;
    static final byte POISON = (byte) 0xDB;
    /** Little-endian on every platform, so the lowest set bit of a difference is the first damaged byte. */
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockChecks() {
    }

    /** A block's worth of poison to compare against; made on first use (checked mode only). */
    private static final class Poison {
        static final MemorySegment BYTES = Arena.global().allocate(SizeClasses.MAX_SIZE).fill(POISON);
    }

    private static long canary(long address) {
        return CANARY_SEED ^ (address * 0x9E3779B97F4A7C15L);
    }

    static void armCanary(MemorySegment block, long offset, long address) {
        for (long i = 0; i < CANARY_BYTES; i += Long.BYTES) {
            block.set(WORD, offset + i, canary(address + i));
        }
    }

    /** The offset of the first damaged canary byte, or -1 when the canary is intact. */
    static long brokenCanary(MemorySegment block, long offset, long address) {
        for (long i = 0; i < CANARY_BYTES; i += Long.BYTES) {
            long found = block.get(WORD, offset + i) ^ canary(address + i);
            if (found != 0) {
                return offset + i + Long.numberOfTrailingZeros(found) / 8;
            }
        }
        return -1;
    }

    static void poison(MemorySegment block) {
        block.fill(POISON);
    }

    /** The offset of the first byte that is not poison, or -1 when the whole block still is. */
    static long firstUnpoisoned(MemorySegment block) {
        return MemorySegment.mismatch(block, 0, block.byteSize(), Poison.BYTES, 0, block.byteSize());
    }
}
