package io.cpuslab.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class PageMapTest {

    @Test
    void unknownAndOutOfRangeAddressesMapToNothing() {
        PageMap map = new PageMap();
        assertNull(map.get(0x7f00_0000_0000L));
        assertNull(map.get(-1L));
        assertNull(map.get(1L << 48));
    }

    @Test
    void everyPageOfASpanMapsToItAndNeighboursDoNot() {
        PageMap map = new PageMap();
        long first = 0x7f00_0000_0000L >>> SizeClasses.PAGE_SHIFT;
        Span span = new Span(first, 3, 0, Span.IN_USE, false);
        map.set(first, 3, span);
        for (long offset = 0; offset < 3 * SizeClasses.PAGE_SIZE; offset += 4096) {
            assertSame(span, map.get(span.start() + offset));
        }
        assertNull(map.get(span.start() - 1));
        assertNull(map.get(span.start() + 3 * SizeClasses.PAGE_SIZE));
    }

    @Test
    void freeRunsAreFoundFromTheirEnds() {
        PageMap map = new PageMap();
        Span run = new Span(1 << 20, 10, 0, Span.FREE_BACKED, false);
        map.setEnds(run);
        assertSame(run, map.get(run.start()));
        assertSame(run, map.get((run.endPage() - 1) << SizeClasses.PAGE_SHIFT));
    }
}
