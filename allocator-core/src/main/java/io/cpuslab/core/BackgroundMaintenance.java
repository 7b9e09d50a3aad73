package io.cpuslab.core;

/**
 * The optional daemon thread behind {@link Maintenance}: wakes up every period and runs one
 * {@link Maintenance#tick}, off the callers' paths. One per allocator, started when the configuration
 * asks for any background work, stopped (and joined) by {@code close()} before memory is unmapped.
 *
 * <pre>{@code
 * BackgroundMaintenance thread = new BackgroundMaintenance(maintenance, 1000, MaintenanceClock.SYSTEM);
 * ...
 * thread.stop();   // returns once the last tick has finished
 * }</pre>
 */
final class BackgroundMaintenance implements Runnable {
    private static final System.Logger LOG = System.getLogger("io.cpuslab");

    private final Maintenance maintenance;
    private final long periodMillis;
    private final MaintenanceClock clock;
    private final Thread thread;
    private volatile boolean stopped;

    BackgroundMaintenance(Maintenance maintenance, long periodMillis, MaintenanceClock clock) {
        this.maintenance = maintenance;
        this.periodMillis = periodMillis;
        this.clock = clock;
        this.thread = Thread.ofPlatform().daemon().name("cpuslab-maintenance").start(this);
    }

    @Override
    public void run() {
        boolean warned = false;
        while (!stopped) {
            try {
                clock.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
            try {
                maintenance.tick(clock.nanoTime());
            } catch (RuntimeException | Error e) {
                // Maintenance only gives memory back; a failed tick must not end it for good, nor spam the log.
                if (!warned) {
                    LOG.log(System.Logger.Level.WARNING, "cpuslab: background maintenance failed; retrying each period", e);
                    warned = true;
                }
            }
        }
    }

    /** Stops the thread and returns once it has ended, its last tick finished; a caller's interrupt is kept. */
    void stop() {
        stopped = true;
        thread.interrupt();
        // Waits out the tick under way even when the caller is interrupted: close unmaps right after this,
        // and a tick hands slab pages back with a raw madvise that must never reach unmapped memory.
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
