package io.cpuslab.core;

import java.util.concurrent.atomic.AtomicInteger;

/** Test OS memory: real memory underneath, with a switch that makes {@link #map} fail like the OS would. */
public final class FaultyMemory implements OsMemory {
    private final OsMemory real = OsMemory.forThisPlatform();
    private volatile boolean failing;
    public final AtomicInteger maps = new AtomicInteger();
    public final AtomicInteger releases = new AtomicInteger();

    public void failing(boolean value) {
        failing = value;
    }

    @Override
    public long map(long bytes, long alignment) {
        if (failing) {
            throw new OutOfMemoryError("mmap of " + Bytes.format(bytes) + " failed: errno 12 (simulated)");
        }
        maps.incrementAndGet();
        return real.map(bytes, alignment);
    }

    @Override
    public void unmap(long address, long bytes) {
        real.unmap(address, bytes);
    }

    @Override
    public void release(long address, long bytes) {
        releases.incrementAndGet();
        real.release(address, bytes);
    }

    @Override
    public boolean protect(long address, long bytes, boolean accessible) {
        return real.protect(address, bytes, accessible);
    }

    @Override
    public boolean canProtect() {
        return real.canProtect();
    }

    @Override
    public boolean canRelease() {
        return real.canRelease();
    }

    @Override
    public String description() {
        return "faulty " + real.description();
    }
}
