package io.cpuslab.core;

import io.cpuslab.MemoryCorruptionException;

import java.lang.foreign.MemorySegment;

/**
 * Checked mode: every block is validated when it is handed out, named in a call, and given back. The
 * marks are those of {@link BlockChecks}, in user memory (a canary right after the size asked, poison
 * over a freed small block); the bookkeeping is in the {@link Span}, on the Java heap (a live bit and
 * a poisoned bit per object, the size asked per block).
 *
 * <pre>{@code
 * BlockPolicy blocks = new CheckedBlocks(parts);
 * long p = blocks.handOut(address, 100);   // live bit set, old poison verified, canary armed after byte 100
 * blocks.verify(span, p, "free");          // throws: not live (double free), or the canary is broken
 * blocks.takeBack(span, p);                // live bit cleared, block poisoned
 * }</pre>
 *
 * <p>A rejected call changes nothing, and a block found damaged stays out of use: a broken canary leaves
 * it allocated, broken poison leaves it live and never handed out. Guarded blocks never come here
 * ({@link BlockPolicy}): their guard page catches an overrun as it happens.
 */
final class CheckedBlocks extends BlockPolicy {
    private final AllocatorParts parts;

    CheckedBlocks(AllocatorParts parts) {
        super(BlockChecks.CANARY_BYTES);
        this.parts = parts;
    }

    /**
     * Marks the block live, verifies the poison of a block freed before (a write after free is reported,
     * and the block stays out of use for good), records the size asked and arms the canary right after it.
     */
    @Override
    long handOut(long address, long size) {
        Span span = parts.pageMap.get(address);
        int index = span.objectIndex(address);
        if (!span.markLive(index)) {
            throw new IllegalStateException("cpuslab bug: block 0x" + Long.toHexString(address) + " handed out twice");
        }
        try {
            MemorySegment block = parts.view(address, SizeClasses.size(span.sizeClass));
            long damaged = span.isPoisoned(index) ? BlockChecks.firstUnpoisoned(block) : -1;
            if (damaged >= 0) {
                throw new MemoryCorruptionException("write after free (found when handing the block out again; it is"
                        + " kept out of use)", address, span.sizeClass, block.byteSize(), damaged);
            }
            span.requested[index] = size;
            BlockChecks.armCanary(block, size, address);
        } catch (IllegalStateException e) {
            throw parts.closedOr(e);
        }
        return address;
    }

    @Override
    void handOutLarge(Span span, long size) {
        span.requested[0] = size;
        armCanary(span.start(), size);
    }

    /** The block is allocated and its canary intact, or the call is rejected. */
    @Override
    void verify(Span span, long address, String call) {
        if (span.sizeClass != 0 && !span.isLive(span.objectIndex(address))) {
            throw new IllegalArgumentException(call + " of 0x" + Long.toHexString(address) + " (size class " + span.sizeClass
                    + ", " + SizeClasses.size(span.sizeClass) + " bytes): block is not allocated (already freed)");
        }
        long usable = usable(span, address);
        try {
            long damaged = BlockChecks.brokenCanary(parts.view(address, usable + canaryBytes), usable, address);
            if (damaged >= 0) {
                throw new MemoryCorruptionException(call + " found an overrun past the usable size of " + usable
                        + " bytes (the block stays allocated)", address, span.sizeClass, usable + canaryBytes, damaged);
            }
        } catch (IllegalStateException e) {
            throw parts.closedOr(e);
        }
    }

    /** Clears the live bit (a double free is rejected) and poisons the block. */
    @Override
    void takeBack(Span span, long address) {
        int index = span.objectIndex(address);
        if (!span.markFreed(index)) {
            throw new IllegalArgumentException("free of 0x" + Long.toHexString(address) + " (size class "
                    + span.sizeClass + ", " + SizeClasses.size(span.sizeClass) + " bytes): double free");
        }
        // Poisoned before the block can reach any cache, so whoever takes it next sees the poison.
        poison(address, span.sizeClass);
        span.markPoisoned(index);
    }

    /** Exactly the size asked. */
    @Override
    long usable(Span span, long address) {
        return span.requested[block(span, address)];
    }

    /** The block now ends elsewhere: so does what is checked. */
    @Override
    void resize(Span span, long address, long newSize) {
        span.requested[block(span, address)] = newSize;
        armCanary(address, newSize);
    }

    /** The index of the block at {@code address} in its span's per-block records: a large span has one. */
    private static int block(Span span, long address) {
        return span.sizeClass == 0 ? 0 : span.objectIndex(address);
    }

    private void armCanary(long address, long size) {
        try {
            BlockChecks.armCanary(parts.view(address, size + canaryBytes), size, address);
        } catch (IllegalStateException e) {
            throw parts.closedOr(e);
        }
    }

    private void poison(long address, int sizeClass) {
        try {
            BlockChecks.poison(parts.view(address, SizeClasses.size(sizeClass)));
        } catch (IllegalStateException e) {
            throw parts.closedOr(e);
        }
    }
}
