package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.core.SizeClasses;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The one-call fast path against the Java tables it mirrors: the native class lookup gives every size
 * the class {@link SizeClasses#classFor} gives it, and the native free files a block by the page map.
 */
@RequiresRseq
class NativeFastPathTest {
    @Test
    void everySmallSizeGetsTheClassTheJavaTableGivesIt() {
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build()) {
            for (long size = 0; size <= SizeClasses.MAX_SIZE; size++) {
                long p = a.malloc(size);
                assertEquals(SizeClasses.size(SizeClasses.classFor(size)), a.usableSize(p), "size " + size);
                a.free(p);
            }
            long large = a.malloc(SizeClasses.MAX_SIZE + 1);
            assertEquals(SizeClasses.MAX_SIZE + SizeClasses.PAGE_SIZE, a.usableSize(large));
            a.free(large);
            assertEquals(0, a.stats().applicationBytes());
        }
    }

    @Test
    void aSizedFreeFilesTheBlockByThePageMapWhateverTheSize() {
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build()) {
            a.free(a.malloc(64));
            a.free(a.malloc(1000));
            long p = a.malloc(64);
            a.freeSized(p, 1000); // the size of another class: the page map still knows the block's
            assertNotEquals(p, a.malloc(1000));
            assertEquals(p, a.malloc(64), "back in its own class, on top");
        }
    }
}
