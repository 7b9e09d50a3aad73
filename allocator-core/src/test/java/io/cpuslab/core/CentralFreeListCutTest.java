package io.cpuslab.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Central free list work cut short at a page map or OS call under it (spans carved and given back), by a
 * {@link StackOverflowError} or an {@link OutOfMemoryError} of the JVM, which pass through as themselves (no
 * memory is a value, not an error): no object or page may be handed out twice afterwards.
 */
class CentralFreeListCutTest {
    /** 4 objects of 9472 B per 5-page span: few objects to count through, spans of an odd size to coalesce. */
    private static final int SC = SizeClasses.classFor(9472);
    private static final int SIZE = SizeClasses.size(SC);

    /** One step of the scenario, on the list and the objects held. */
    private interface Step {
        void apply(CentralFreeList list, List<Long> held);
    }

    private static Step take(int count) {
        return (list, held) -> {
            long[] out = new long[count];
            if (list.removeRange(out, 0, count) instanceof Batch.Objects(int got)) {
                for (int i = 0; i < got; i++) {
                    held.add(out[i]);
                }
            }
        };
    }

    /** Gives back every {@code stride}-th object held, from the first; a give-back that dies is not tried again. */
    private static Step giveBack(int stride) {
        return (list, held) -> {
            List<Long> back = new ArrayList<>();
            List<Long> kept = new ArrayList<>();
            for (int i = 0; i < held.size(); i++) {
                (i % stride == 0 ? back : kept).add(held.get(i));
            }
            held.clear();
            held.addAll(kept);
            list.insertRange(back.stream().mapToLong(Long::longValue).toArray(), 0, back.size());
        };
    }

    /** Whole spans back to the page heap next to spans in use, objects out of half-used spans, new spans carved. */
    private static final List<Step> SCENARIO = List.of(
            take(20), giveBack(1), take(40), giveBack(2), take(12), giveBack(3), take(30), giveBack(1));

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aStackOverflowOrOutOfMemoryAtAnyCallBelowLeavesNoObjectOrPageHandedOutTwice() {
        int calls = run(-1, StackOverflowError::new);
        assertTrue(calls > 50, calls + " calls");
        for (int at = 0; at < calls; at++) {
            run(at, StackOverflowError::new);
            run(at, () -> new OutOfMemoryError("cut (simulated)"));
        }
    }

    /** Runs the scenario, cut at call {@code at} (-1: not at all), then checks; returns the calls made. */
    private static int run(int at, Supplier<Error> error) {
        Cuts cuts = new Cuts(at, error);
        PageHeap heap = new PageHeap(cuts.os, cuts.pageMap, Long.MAX_VALUE, false);
        CentralFreeList list = new CentralFreeList(SC, heap, cuts.pageMap);
        try {
            List<Long> held = new ArrayList<>();
            for (Step step : SCENARIO) {
                try {
                    step.apply(list, held);
                } catch (StackOverflowError | OutOfMemoryError e) {
                    // the thread died in this step; the others go on
                }
            }
            int calls = cuts.calls();
            cuts.stop();
            cuts.failMaps();
            Claims claims = new Claims(cuts.toString());
            for (long object : held) {
                claims.claim(object, object + SIZE, "object 0x" + Long.toHexString(object));
            }
            List<Span> pages = claims.exhaust(heap);
            held.addAll(exhaustObjects(list, claims));
            giveBack(1).apply(list, held);
            for (Span span : pages) {
                span.retire();
                heap.free(span);
            }
            claims = new Claims(cuts.toString());
            long objects = exhaustObjects(list, claims).size();
            claims.exhaust(heap);
            if (at < 0) {
                long spanBytes = SizeClasses.pages(SC) << SizeClasses.PAGE_SHIFT;
                assertEquals(heap.snapshot().mappedBytes() / spanBytes, objects / SizeClasses.objectsPerSpan(SC),
                        "uncut, every span comes back as objects");
            }
            return calls;
        } finally {
            heap.close();
            cuts.unmapLeft();
        }
    }

    /** Takes objects until the list cannot carve another span (maps fail), claiming each. */
    private static List<Long> exhaustObjects(CentralFreeList list, Claims claims) {
        List<Long> taken = new ArrayList<>();
        long[] out = new long[256];
        while (true) {
            Batch batch = list.removeRange(out, 0, out.length);
            if (batch instanceof NoMemory noMemory) {
                assertTrue(noMemory.why().contains("simulated"), noMemory.toString());
                return taken;
            }
            int got = ((Batch.Objects) batch).count();
            for (int i = 0; i < got; i++) {
                claims.claim(out[i], out[i] + SIZE, "object 0x" + Long.toHexString(out[i]));
                taken.add(out[i]);
            }
        }
    }
}
