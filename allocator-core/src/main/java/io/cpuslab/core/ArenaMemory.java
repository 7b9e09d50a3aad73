package io.cpuslab.core;

import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.Map;

/**
 * Memory for systems without {@code mmap} through FFM: each region is one shared {@link Arena}
 * allocation, freed when the region is unmapped. The JDK gives no way to return part of an arena
 * allocation to the OS, so {@link #release} does nothing and reports say so.
 */
final class ArenaMemory implements OsMemory {
    private final Map<Long, Arena> regions = new HashMap<>();

    @Override
    public synchronized long map(long bytes, long alignment) {
        Arena arena = Arena.ofShared();
        long base;
        // Only the allocation's error is the OS's refusal; a Java-heap one from the map below stays itself.
        try {
            base = arena.allocate(bytes, alignment).address();
        } catch (OutOfMemoryError e) {
            arena.close();
            throw new OffHeapExhaustedError("Arena allocation of " + Bytes.format(bytes) + " failed: " + e.getMessage());
        }
        try {
            regions.put(base, arena);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        return base;
    }

    @Override
    public synchronized void unmap(long address, long bytes) {
        Arena arena = regions.remove(address);
        if (arena == null) {
            throw new IllegalStateException("unmap of a region this memory did not map: 0x" + Long.toHexString(address));
        }
        arena.close();
    }

    @Override
    public void release(long address, long bytes) {
        // Nothing to do: the JDK cannot give part of an arena back.
    }

    @Override
    public boolean canRelease() {
        return false;
    }

    @Override
    public String description() {
        return "Arena (memory is not returned to the OS before close)";
    }
}
