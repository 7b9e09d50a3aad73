package io.cpuslab.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SizeClassesTest {

    @Test
    void tableHasTcmallocs47ClassesUpTo256KiB() {
        assertEquals(48, SizeClasses.COUNT);
        assertEquals(8, SizeClasses.size(1));
        assertEquals(262144, SizeClasses.size(SizeClasses.COUNT - 1));
        for (int sc = 2; sc < SizeClasses.COUNT; sc++) {
            assertTrue(SizeClasses.size(sc) > SizeClasses.size(sc - 1), "sizes increase at class " + sc);
        }
    }

    @Test
    void everySizeMapsToTheSmallestClassThatFits() {
        for (int size = 0; size <= SizeClasses.MAX_SIZE; size++) {
            int sc = SizeClasses.classFor(size);
            assertTrue(SizeClasses.size(sc) >= size, "class " + sc + " holds " + size);
            if (sc > 1) {
                assertTrue(SizeClasses.size(sc - 1) < size, "class " + (sc - 1) + " would have held " + size);
            }
        }
    }

    @Test
    void roundUpWasteIsBounded() {
        for (int size = 1; size <= SizeClasses.MAX_SIZE; size++) {
            long waste = SizeClasses.size(SizeClasses.classFor(size)) - size;
            if (size < 64) {
                assertTrue(waste < 32, "waste " + waste + " at " + size);
            } else {
                // TCMalloc's table: worst case just above 20 KiB (20481 -> 28672), 40%.
                assertTrue(waste * 100 / size < 40, "waste " + waste + " at " + size);
            }
        }
    }

    @Test
    void spanTailsWasteUnderEightPercent() {
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            long span = SizeClasses.pages(sc) * SizeClasses.PAGE_SIZE;
            long tail = span - (long) SizeClasses.objectsPerSpan(sc) * SizeClasses.size(sc);
            assertTrue(tail * 100 / span < 8, "class " + sc + " tail " + tail + " of " + span);
            assertTrue(SizeClasses.objectsPerSpan(sc) >= 1 && SizeClasses.objectsPerSpan(sc) <= Short.MAX_VALUE);
        }
    }

    @Test
    void batchIs64KiBOverSizeClampedTo2To32() {
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            assertEquals(Math.clamp(65536 / SizeClasses.size(sc), 2, 32), SizeClasses.batch(sc));
        }
        assertEquals(28, SizeClasses.batch(SizeClasses.classFor(2304)));
        assertEquals(2, SizeClasses.batch(SizeClasses.COUNT - 1));
    }

    @Test
    void objectIndexAgreesWithDivisionAtEveryOffsetOfEverySpan() {
        for (int sc = 1; sc < SizeClasses.COUNT; sc++) {
            int size = SizeClasses.size(sc);
            long spanBytes = SizeClasses.pages(sc) * SizeClasses.PAGE_SIZE;
            for (long offset = 0; offset < spanBytes; offset++) {
                int expected = offset % size == 0 && offset / size < SizeClasses.objectsPerSpan(sc) ? (int) (offset / size) : -1;
                if (SizeClasses.objectIndex(sc, offset) != expected) {
                    assertEquals(expected, SizeClasses.objectIndex(sc, offset), "class " + sc + " offset " + offset);
                }
            }
        }
    }

    @Test
    void classesFrom16BytesAre16ByteMultiples() {
        for (int sc = 2; sc < SizeClasses.COUNT; sc++) {
            assertEquals(0, SizeClasses.size(sc) % 16, "class " + sc);
        }
    }
}
