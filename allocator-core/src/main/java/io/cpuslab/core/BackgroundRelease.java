package io.cpuslab.core;

/**
 * Optional daemon thread that returns free page-heap memory to the OS at a steady rate (bytes per
 * second), off the callers' paths. Started when {@code releaseRate > 0}.
 */
final class BackgroundRelease implements Runnable {
    private static final long PERIOD_MILLIS = 1000;

    private final PageHeap pageHeap;
    private final long bytesPerSecond;
    private final Thread thread;
    private volatile boolean stopped;

    BackgroundRelease(PageHeap pageHeap, long bytesPerSecond) {
        this.pageHeap = pageHeap;
        this.bytesPerSecond = bytesPerSecond;
        this.thread = Thread.ofPlatform().daemon().name("cpuslab-release").start(this);
    }

    @Override
    public void run() {
        while (!stopped) {
            try {
                Thread.sleep(PERIOD_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            pageHeap.release(bytesPerSecond * PERIOD_MILLIS / 1000);
        }
    }

    void stop() {
        stopped = true;
        thread.interrupt();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
