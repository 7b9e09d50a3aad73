package io.cpuslab.bench;

/**
 * One allocator under measurement, opened once per benchmark trial and shared by its threads. Each
 * thread (or producer/consumer pair) works through its own {@link Slots}, so the hot path is the same
 * two calls for every peer: allocate into a slot, free a slot.
 *
 * <pre>{@code
 * try (Peer peer = Peers.open("glibc")) {
 *     Slots slots = peer.slots(1);
 *     slots.allocate(0, 64);
 *     slots.free(0);
 * }
 * }</pre>
 */
public interface Peer extends AutoCloseable {
    /** What {@link #cachedBytes()} returns for an allocator that does not report it. */
    long NOT_REPORTED = -1;

    /** Slots for one thread's (or one producer/consumer pair's) live blocks. */
    Slots slots(int capacity);

    /** Free memory the allocator keeps for reuse, as the allocator itself reports it, or {@link #NOT_REPORTED}. */
    default long cachedBytes() {
        return NOT_REPORTED;
    }

    /** Where {@link #cachedBytes()} comes from, for the report. */
    default String cachedBytesSource() {
        return "not reported by this allocator";
    }

    @Override
    default void close() {
    }
}
