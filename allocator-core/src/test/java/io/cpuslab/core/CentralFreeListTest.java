package io.cpuslab.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CentralFreeListTest {
    private static final int SC = SizeClasses.classFor(1024); // 8 objects per 8 KiB span
    private final PageMap map = new PageMap();
    private final PageHeap heap = new PageHeap(new FaultyMemory(), map, Long.MAX_VALUE, false);
    private final CentralFreeList list = new CentralFreeList(SC, heap, map);

    @AfterEach
    void close() {
        heap.close();
    }

    @Test
    void objectsAreDistinctAlignedAndInsideTheirSpan() {
        long[] out = new long[100];
        assertEquals(new Batch.Objects(100), list.removeRange(out, 0, 100));
        Set<Long> seen = new HashSet<>();
        for (long address : out) {
            assertTrue(seen.add(address), "handed out twice");
            Span span = map.get(address);
            assertEquals(SC, span.sizeClass);
            assertEquals(0, (address - span.start()) % SizeClasses.size(SC));
        }
        assertEquals(100, list.snapshot().objectsOut());
    }

    @Test
    void emptiedSpansGoBackToThePageHeap() {
        long[] out = new long[64];
        list.removeRange(out, 0, 64);
        assertEquals(8, list.snapshot().spans());
        list.insertRange(out, 0, 64);
        assertEquals(0, list.snapshot().spans());
        assertEquals(8, list.snapshot().spansReturned());
        assertEquals(0, heap.snapshot().inUseBytes());
    }

    @Test
    void allocationPrefersTheFullestSpanSoOthersCanDrain() {
        long[] out = new long[16];
        list.removeRange(out, 0, 16); // two full spans
        long[] back = {out[0], out[8], out[9], out[10], out[11], out[12], out[13], out[14]};
        list.insertRange(back, 0, back.length); // span A: 7 in use, span B: 1 in use
        long[] next = new long[1];
        list.removeRange(next, 0, 1);
        assertEquals(map.get(out[0]), map.get(next[0]), "took from the fuller span");
    }

    @Test
    void freedUserMemoryIsNeverWritten() {
        long[] out = new long[8];
        list.removeRange(out, 0, 8);
        for (long address : out) {
            MemorySegment.ofAddress(address).reinterpret(SizeClasses.size(SC)).fill((byte) 0x5A);
        }
        list.insertRange(out, 0, 7); // span keeps one object, so its memory stays
        for (int i = 0; i < 7; i++) {
            MemorySegment block = MemorySegment.ofAddress(out[i]).reinterpret(SizeClasses.size(SC));
            for (long b = 0; b < block.byteSize(); b++) {
                assertEquals(0x5A, block.get(java.lang.foreign.ValueLayout.JAVA_BYTE, b));
            }
        }
    }

    /**
     * A heap with room for two spans: the batch that needs a third keeps the 16 objects of the two (the
     * caller's, counted out), and a batch that finds nothing is the heap's refusal.
     */
    @Test
    void aBatchTheHeapCutsShortKeepsWhatItFoundAndOneThatFindsNothingIsTheRefusal() {
        PageMap twoSpansMap = new PageMap();
        PageHeap twoSpans = new PageHeap(new FaultyMemory(), twoSpansMap, 2 * SizeClasses.PAGE_SIZE, false);
        try {
            CentralFreeList limited = new CentralFreeList(SC, twoSpans, twoSpansMap);
            long[] out = new long[20];
            assertEquals(new Batch.Objects(16), limited.removeRange(out, 0, 20));
            assertEquals(16, Arrays.stream(out, 0, 16).filter(a -> twoSpansMap.get(a) != null).distinct().count());
            assertEquals(16, limited.snapshot().objectsOut());
            assertEquals(new NoMemory(1, "memory limit 16 KiB, in use 16 KiB"), limited.removeRange(out, 16, 4));
            limited.insertRange(out, 0, 16);
            assertEquals(0, twoSpans.snapshot().inUseBytes(), "all came back");
        } finally {
            twoSpans.close();
        }
    }

    @Test
    void objectsOfAnotherClassAreRefused() {
        CentralFreeList other = new CentralFreeList(SC + 1, heap, map);
        long[] out = new long[1];
        other.removeRange(out, 0, 1);
        assertThrows(IllegalStateException.class, () -> list.insertRange(out, 0, 1));
    }
}
