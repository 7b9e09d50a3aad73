package io.cpuslab.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link MaintenanceClock} that moves only when the test moves it: the maintenance thread's
 * {@link #sleep} waits for {@link #advance}, which moves the time on, lets exactly one tick run at the new
 * time and returns once that tick has finished, so the test looks at the allocator right after with
 * nothing moving. The period the thread asks to sleep is ignored; time starts at 0.
 *
 * <pre>{@code
 * ManualClock clock = new ManualClock();
 * OffHeapAllocator a = CpuSlabAllocator.create(config.withMaintenance(0, 20, 10).withMaintenanceClock(clock));
 * clock.advance(10);   // one tick, at 10 ms, and it has finished
 * }</pre>
 *
 * <p>One clock serves one allocator. {@link #advance} must not race the allocator's {@code close()}: a
 * thread stopped between two sleeps never comes back to say its tick finished.
 */
final class ManualClock implements MaintenanceClock {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long nanos;
    /** Sleeps begun, and sleeps ended by an advance: equal while a tick runs (or before the first sleep). */
    private long sleeps;
    private long wakeUps;
    /** The thread was interrupted while it slept: {@code stop()}, so no tick will come again. */
    private boolean stopped;

    @Override
    public long nanoTime() {
        lock.lock();
        try {
            return nanos;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void sleep(long millis) throws InterruptedException {
        lock.lock();
        try {
            sleeps++;
            changed.signalAll();
            while (wakeUps < sleeps) {
                changed.await();
            }
        } catch (InterruptedException e) {
            stopped = true;
            changed.signalAll();
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Moves the time {@code millis} on and runs one tick at the new time; returns once that tick has
     * finished. Waits first for the thread to be asleep: it may not have started yet, or still be in the
     * tick of an advance from another thread.
     *
     * @throws IllegalStateException when the maintenance thread has stopped
     */
    void advance(long millis) throws InterruptedException {
        lock.lock();
        try {
            awaitAsleep();
            nanos += TimeUnit.MILLISECONDS.toNanos(millis);
            wakeUps++;
            changed.signalAll();
            awaitAsleep();
        } finally {
            lock.unlock();
        }
    }

    private void awaitAsleep() throws InterruptedException {
        while (!stopped && sleeps == wakeUps) {
            changed.await();
        }
        if (stopped) {
            throw new IllegalStateException("the maintenance thread has stopped");
        }
    }
}
