package io.cpuslab.core;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/** Test OS memory: real memory underneath, with switches that make {@link #map} and {@link #unmap} fail like the OS would. */
public final class FaultyMemory implements OsMemory {
    private final OsMemory real = OsMemory.forThisPlatform();
    private volatile boolean failing;
    /** Maps that still succeed before {@link #failing} turns on by itself. */
    private final AtomicInteger mapsBeforeFailing = new AtomicInteger(Integer.MAX_VALUE);
    /** What a failing map throws, given the bytes asked: the OS's refusal unless a test says otherwise. */
    private volatile LongFunction<OutOfMemoryError> failure =
            bytes -> new OffHeapExhaustedError("mmap of " + Bytes.format(bytes) + " failed: errno 12 (simulated)");
    /** Unmaps that fail from now on, each once, before unmaps succeed again. */
    private final AtomicInteger unmapsToFail = new AtomicInteger();
    /** Each unmap that failed, {@code {address, bytes}}: its memory is still mapped (and in {@link #mappedBytes}). */
    public final List<long[]> failedUnmaps = new CopyOnWriteArrayList<>();
    public final AtomicInteger maps = new AtomicInteger();
    public final AtomicInteger releases = new AtomicInteger();
    /** Bytes mapped and not unmapped. */
    public final AtomicLong mappedBytes = new AtomicLong();

    public void failing(boolean value) {
        failing = value;
    }

    /** Failing maps throw what {@code failure} makes (e.g. an OutOfMemoryError of the Java heap). */
    public void failWith(LongFunction<OutOfMemoryError> failure) {
        this.failure = failure;
    }

    /** Lets {@code maps} more maps succeed, then fails every later one. */
    public void failAfter(int maps) {
        mapsBeforeFailing.set(maps);
    }

    @Override
    public long map(long bytes, long alignment) {
        if (failing || mapsBeforeFailing.getAndDecrement() <= 0) {
            throw failure.apply(bytes);
        }
        maps.incrementAndGet();
        long address = real.map(bytes, alignment);
        mappedBytes.addAndGet(bytes);
        return address;
    }

    /** Makes the next {@code unmaps} unmaps fail as munmap would, leaving their memory mapped. */
    public void failUnmaps(int unmaps) {
        unmapsToFail.set(unmaps);
    }

    @Override
    public void unmap(long address, long bytes) {
        if (unmapsToFail.getAndUpdate(n -> Math.max(n - 1, 0)) > 0) {
            failedUnmaps.add(new long[] {address, bytes});
            throw new IllegalStateException("munmap of " + Bytes.format(bytes) + " failed: errno 22 (simulated)");
        }
        real.unmap(address, bytes);
        mappedBytes.addAndGet(-bytes);
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
    public boolean adviseHugePages(long address, long bytes) {
        return real.adviseHugePages(address, bytes);
    }

    @Override
    public boolean canAdviseHugePages() {
        return real.canAdviseHugePages();
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
