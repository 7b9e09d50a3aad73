package io.cpuslab.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Netty's leak detector, counting what it reports. Installed for every test JVM of this module with
 * {@code -Dio.netty.customResourceLeakDetector} (Netty creates the buffer detector once, when
 * {@code AbstractByteBuf} loads, so a system property is the only reliable way in).
 */
public final class CountingLeakDetector<T> extends ResourceLeakDetector<T> {

    private static final AtomicLong LEAKS = new AtomicLong();
    /** GC rounds to wait for a dropped buffer's tracker to be enqueued. */
    private static final int GC_ROUNDS = 10;
    private static final long GC_PAUSE_MILLIS = 20;

    public CountingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        super(resourceType, samplingInterval, maxActive);
    }

    public CountingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
    }

    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        LEAKS.incrementAndGet();
        super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        LEAKS.incrementAndGet();
        super.reportUntracedLeak(resourceType);
    }

    /** Leaks reported so far in this JVM. */
    public static long leaks() {
        return LEAKS.get();
    }

    /**
     * Collects garbage and makes the detector look at its queue (it does so only when it tracks a new
     * buffer), so a buffer dropped without {@code release()} is reported before this returns. Returns
     * the leak count afterwards; stops early once it exceeds {@code stopAbove}.
     */
    public static long collectAndCount(ByteBufAllocator alloc, long stopAbove) throws InterruptedException {
        for (int round = 0; round < GC_ROUNDS && leaks() <= stopAbove; round++) {
            System.gc();
            Thread.sleep(GC_PAUSE_MILLIS);
            ByteBuf probe = alloc.directBuffer(1);
            probe.release();
        }
        return leaks();
    }

    /** Whether this JVM's buffers are tracked by this class (the surefire configuration says so). */
    public static boolean installed() {
        return CountingLeakDetector.class.getName().equals(System.getProperty("io.netty.customResourceLeakDetector"))
                && ResourceLeakDetector.getLevel() == Level.PARANOID;
    }
}
