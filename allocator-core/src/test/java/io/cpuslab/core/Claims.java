package io.cpuslab.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Address ranges handed out, for checks that nothing is handed out twice: fails on the first overlap. */
final class Claims {
    private record Claim(long end, Object what) {
    }

    private final String context;
    private final TreeMap<Long, Claim> claims = new TreeMap<>();

    /** @param context said in every failure, e.g. where the work was cut */
    Claims(String context) {
        this.context = context;
    }

    /** Claims {@code [start, end)} for {@code what}; throws if any byte of it was claimed before. */
    void claim(long start, long end, Object what) {
        Map.Entry<Long, Claim> below = claims.floorEntry(start);
        Map.Entry<Long, Claim> above = claims.ceilingEntry(start);
        Claim clash = below != null && below.getValue().end() > start ? below.getValue()
                : above != null && above.getKey() < end ? above.getValue() : null;
        if (clash != null) {
            throw new AssertionError(what + " overlaps " + clash.what() + ", handed out before; " + context);
        }
        claims.put(start, new Claim(end, what));
    }

    void claim(Span span) {
        claim(span.start(), span.start() + span.bytes(), span);
    }

    /**
     * Allocates from {@code heap} until it has nothing left, claiming every span; its maps must fail
     * ({@link Cuts#failMaps()}), or it grows instead.
     */
    List<Span> exhaust(PageHeap heap) {
        List<Span> spans = new ArrayList<>();
        for (long size : new long[] {1024, 64, 8, 1}) {
            PageHeap.Allocation allocation;
            while ((allocation = heap.allocate(size, 0)) instanceof Span span) {
                claim(span);
                spans.add(span);
            }
            if (!((NoMemory) allocation).why().contains("simulated")) {
                throw new AssertionError("the heap ran out for another reason: " + allocation + "; " + context);
            }
        }
        return spans;
    }
}
