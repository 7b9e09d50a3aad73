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
        return new ArenaSlots(arenas, capacity);
    }

    private static final class ArenaSlots extends Slots {
        private final Supplier<Arena> factory;
        private final Arena[] arenas;

        ArenaSlots(Supplier<Arena> factory, int capacity) {
            super(capacity);
            this.factory = factory;
            this.arenas = new Arena[capacity];
        }

        @Override
        public void allocate(int slot, int size) {
            Arena arena = factory.get();
            arena.allocate(size, ALIGNMENT);
            arenas[slot] = arena;
        }

        @Override
        public void free(int slot) {
            arenas[slot].close();
            arenas[slot] = null;
        }

        @Override
        public boolean isFull(int slot) {
            return arenas[slot] != null;
        }
    }
}
