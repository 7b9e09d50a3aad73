package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every way {@code capacity(n)} can keep or move a buffer's block (grow, shrink in place, shrink that
 * moves, to and from large blocks above 256 KiB), each followed by the last {@code release()}: it must
 * not throw, and cpuslab's bytes in use must come back to where they were. In checked mode a block's
 * size is exactly the size last asked, so a free with any other size is rejected; on the locked front
 * end a size of another class would file the block under that class and the bytes in use would not
 * come back.
 */
class ResizedBufferReleaseTest {

    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    enum Mode {
        CHECKED(true, CpuSlab.FrontEnd.AUTO),
        UNCHECKED(false, CpuSlab.FrontEnd.AUTO),
        UNCHECKED_LOCKED(false, CpuSlab.FrontEnd.LOCKED);

        final boolean checked;
        private final CpuSlab.FrontEnd frontEnd;

        Mode(boolean checked, CpuSlab.FrontEnd frontEnd) {
            this.checked = checked;
            this.frontEnd = frontEnd;
        }

        OffHeapAllocator create() {
            return CpuSlab.builder().checked(checked).frontEnd(frontEnd).guardSampleRate(0).build();
        }
    }

    /** 900 and 1000 B share the 1024 B class; a checked block's usable size is exactly the size asked. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferGrownWithinItsSizeClassGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 900, 1000, !mode.checked);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferGrownPastItsSizeClassGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 1000, 5000, false);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferShrunkInPlaceGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 1000, 900, true);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferOfTheSmallestClassShrunkInPlaceGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 3, 2, true);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferShrunkIntoASmallerClassMovesAndGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 1000, 100, false);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferGrownToALargeBlockGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 1000, 300 * KIB, false);
    }

    /** 300,000 B takes 37 pages (303,104 B); a checked block's usable size is exactly the size asked. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aLargeBufferGrownWithinItsPagesGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 300_000, 303_000, !mode.checked);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aLargeBufferGrownPastItsPagesGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 4 * MIB, 5 * MIB, false);
    }

    /** A large block stays in place down to half its size. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aLargeBufferShrunkInPlaceGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 4 * MIB, 3 * MIB, true);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aLargeBufferShrunkBelowHalfMovesAndGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 4 * MIB, MIB, false);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aLargeBufferShrunkToASmallBlockGoesBackOnRelease(Mode mode) {
        resizeAndRelease(mode, 4 * MIB, 1000, false);
    }

    /** Chains of resizes from 64 B to 4 MiB, whichever of them stay in place. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aBufferResizedBackAndForthGoesBackOnRelease(Mode mode) {
        try (OffHeapAllocator memory = mode.create()) {
            CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(memory);
            long before = memory.stats().applicationBytes();
            for (int size = 64; size <= 4 * MIB; size += size / 3) {
                ByteBuf buf = alloc.directBuffer(size);
                buf.capacity(size * 3 / 5);
                buf.capacity(size * 4 / 5);
                buf.capacity(size * 3 / 4);
                buf.capacity(size * 2);
                buf.capacity(size * 7 / 4);
                assertTrue(buf.release());
                assertEquals(before, memory.stats().applicationBytes(), "size " + size);
            }
        }
    }

    /**
     * Fills a buffer of {@code from} bytes, resizes it to {@code to}, checks that the block stayed in
     * place or moved as expected (so the test takes the path it is named after) and kept its content,
     * then releases it.
     */
    private static void resizeAndRelease(Mode mode, int from, int to, boolean inPlace) {
        try (OffHeapAllocator memory = mode.create()) {
            CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(memory);
            long before = memory.stats().applicationBytes();
            byte[] content = pattern(from);
            ByteBuf buf = alloc.directBuffer(from).writeBytes(content);
            long address = buf.memoryAddress();

            buf.capacity(to);

            String path = from + " -> " + to + " B, " + mode;
            assertEquals(inPlace, buf.memoryAddress() == address, path + (inPlace ? ": should stay in place" : ": should move"));
            byte[] kept = new byte[Math.min(from, to)];
            buf.getBytes(0, kept);
            assertArrayEquals(Arrays.copyOf(content, kept.length), kept, path);
            assertTrue(buf.release(), path);
            assertEquals(before, memory.stats().applicationBytes(), path + ": bytes in use after release");
        }
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        return bytes;
    }
}
