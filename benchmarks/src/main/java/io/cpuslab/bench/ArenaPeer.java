package io.cpuslab.bench;

import java.lang.foreign.Arena;
import java.util.function.Supplier;

/**
 * The JDK's own way to get off-heap memory with a deterministic free: a fresh {@link Arena} per block,
 * {@code allocate} then {@code close}. A shared arena's close is a handshake with every thread; a
 * confined arena can only be closed by its owner, so it cannot take part in cross-thread frees.
 *
 * <pre>{@code
 * Peer confined = new ArenaPeer(Arena::ofConfined);
 * }</pre>
 */
public final class ArenaPeer implements Peer {
    private static final long ALIGNMENT = 16;   // what malloc guarantees, so no peer pays for less

    private final Supplier<Arena> arenas;

    public ArenaPeer(Supplier<Arena> arenas) {
        this.arenas = arenas;
    }

    @Override
    public Slots slots(int capacity) {
        return new HandleSlots<>(capacity, this::allocate, Arena::close);
    }

    private Arena allocate(int size) {
        Arena arena = arenas.get();
        arena.allocate(size, ALIGNMENT);
        return arena;
    }
}
