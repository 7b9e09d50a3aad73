package io.cpuslab.bench;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.infra.Control;

import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The producer/consumer benchmark's ring: every block crosses once, in order, and nobody waits forever. */
class HandoffRingTest {
    private static final int CROSSINGS = 2_000_000;
    private static final int SMALL_RING = 8;   // small, so both sides keep finding it full or empty

    /**
     * Slots whose blocks are sequence numbers: allocating into a full slot, or freeing anything but the
     * next number in order, throws. Each counter belongs to one side of the ring; the slot array is
     * what the ring must publish between them.
     */
    private static final class SequenceSlots extends Slots {
        private final long[] tokens;
        private long allocated;
        private long freed;

        SequenceSlots(int capacity) {
            super(capacity);
            tokens = new long[capacity];
        }

        @Override
        public void allocate(int slot, int size) {
            if (tokens[slot] != 0) {
                throw new IllegalStateException("slot " + slot + " overwritten while it holds block " + tokens[slot]);
            }
            tokens[slot] = ++allocated;
        }

        @Override
        public void free(int slot) {
            long expected = freed + 1;
            if (tokens[slot] != expected) {
                throw new IllegalStateException("slot " + slot + " holds " + tokens[slot] + ", expected block " + expected);
            }
            tokens[slot] = 0;
            freed = expected;
        }

        @Override
        public boolean isFull(int slot) {
            return tokens[slot] != 0;
        }
    }

    @Test
    void everyBlockCrossesOnceAndInOrderBetweenTwoThreads() throws InterruptedException {
        SequenceSlots slots = new SequenceSlots(SMALL_RING);
        HandoffRing ring = new HandoffRing(slots);
        Control control = new Control();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread producer = Thread.ofPlatform().start(() -> run(failure, control, () -> {
            for (int i = 0; i < CROSSINGS; i++) {
                assertTrue(ring.produce(16, control));
            }
        }));
        Thread consumer = Thread.ofPlatform().start(() -> run(failure, control, () -> {
            for (int i = 0; i < CROSSINGS; i++) {
                assertTrue(ring.consume(control));
            }
        }));
        producer.join();
        consumer.join();
        assertNull(failure.get(), () -> "failed: " + failure.get());
        assertEquals(CROSSINGS, slots.allocated);
        assertEquals(CROSSINGS, slots.freed);
        for (int i = 0; i < SMALL_RING; i++) {
            assertFalse(slots.isFull(i));
        }
    }

    @Test
    void aSideFindingTheRingFullOrEmptyGivesUpWhenTheMeasurementEnds() {
        SequenceSlots slots = new SequenceSlots(SMALL_RING);
        HandoffRing ring = new HandoffRing(slots);
        Control control = new Control();
        control.stopMeasurement = true;
        assertFalse(ring.consume(control), "empty ring");
        for (int i = 0; i < SMALL_RING; i++) {
            assertTrue(ring.produce(16, control), "room for block " + i);
        }
        assertFalse(ring.produce(16, control), "full ring");
        assertEquals(SMALL_RING, slots.allocated);
        for (int i = 0; i < SMALL_RING; i++) {
            assertTrue(ring.consume(control));
        }
        assertEquals(SMALL_RING, slots.freed);
    }

    @Test
    void aCapacityThatIsNoPowerOfTwoIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HandoffRing(new SequenceSlots(6)));
        assertTrue(e.getMessage().contains("6"), e.getMessage());
    }

    /** Runs one side; if it fails, the other side must not wait for it forever. */
    private static void run(AtomicReference<Throwable> failure, Control control, Runnable side) {
        try {
            side.run();
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            control.stopMeasurement = true;
        }
    }
}
