package io.cpuslab.core;

/**
 * Time as the maintenance thread sees it: how it waits out one period, and the time it gives
 * {@link Maintenance#tick}. Allocators use {@link #SYSTEM}; a test gives one its own clock
 * ({@link AllocatorConfig#withMaintenanceClock}) to decide when each tick runs and what time it sees.
 *
 * <pre>{@code
 * MaintenanceClock clock = MaintenanceClock.SYSTEM;
 * clock.sleep(periodMillis);
 * maintenance.tick(clock.nanoTime());
 * }</pre>
 */
interface MaintenanceClock {
    /** {@link System#nanoTime()} and {@link Thread#sleep(long)}. */
    MaintenanceClock SYSTEM = new MaintenanceClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }
    };

    /** Nanoseconds since an arbitrary origin, as {@link System#nanoTime()}: only differences mean anything. */
    long nanoTime();

    /**
     * Waits for the next tick, {@code millis} from now; throws {@link InterruptedException} when the thread
     * is interrupted, as {@code BackgroundMaintenance.stop()} does.
     */
    void sleep(long millis) throws InterruptedException;
}
