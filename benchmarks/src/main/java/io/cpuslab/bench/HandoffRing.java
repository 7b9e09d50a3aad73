package io.cpuslab.bench;

import org.openjdk.jmh.infra.Control;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A single-producer single-consumer ring over a peer's {@link Slots}: the producer allocates into the
 * slot after the last published one and publishes it (release), the consumer frees the oldest
 * published slot and hands it back (release); each reads the other's cursor with acquire, so a block
 * and its handle are visible before the other side touches them. A side that finds the ring full (or
 * empty) spins briefly, then yields, since the machine may have fewer cores than threads, and gives up
 * when JMH ends the measurement.
 *
 * <pre>{@code
 * HandoffRing ring = new HandoffRing(peer.slots(1024));
 * ring.produce(256, control);   // producer thread
 * ring.consume(control);        // consumer thread: frees what the producer allocated
 * }</pre>
 */
public final class HandoffRing {
    private static final int SPINS_BEFORE_YIELD = 64;
    // head and tail live 128 bytes apart in one array so the two threads do not share a cache line.
    private static final int HEAD = 16;
    private static final int TAIL = 32;
    private static final VarHandle CURSORS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] cursors = new long[TAIL + 16];
    private final Slots slots;
    private final int mask;

    public HandoffRing(Slots slots) {
        if (Integer.bitCount(slots.capacity()) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + slots.capacity());
        }
        this.slots = slots;
        this.mask = slots.capacity() - 1;
    }

    /** Producer: allocates one block into the ring; false if the measurement ended while the ring was full. */
    public boolean produce(int size, Control control) {
        long head = (long) CURSORS.getOpaque(cursors, HEAD);
        for (int spins = 0; head - (long) CURSORS.getAcquire(cursors, TAIL) == slots.capacity(); spins++) {
            if (control.stopMeasurement) {
                return false;
            }
            idle(spins);
        }
        slots.allocate((int) head & mask, size);
        CURSORS.setRelease(cursors, HEAD, head + 1);
        return true;
    }

    /** Consumer: frees the oldest block in the ring; false if the measurement ended while it was empty. */
    public boolean consume(Control control) {
        long tail = (long) CURSORS.getOpaque(cursors, TAIL);
        for (int spins = 0; (long) CURSORS.getAcquire(cursors, HEAD) == tail; spins++) {
            if (control.stopMeasurement) {
                return false;
            }
            idle(spins);
        }
        slots.free((int) tail & mask);
        CURSORS.setRelease(cursors, TAIL, tail + 1);
        return true;
    }

    private static void idle(int spins) {
        if (spins < SPINS_BEFORE_YIELD) {
            Thread.onSpinWait();
        } else {
            Thread.yield();
        }
    }
}
