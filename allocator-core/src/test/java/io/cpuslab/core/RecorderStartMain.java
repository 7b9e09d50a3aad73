package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import jdk.jfr.Recording;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Run by the JFR tests in a JVM of its own: starts the JVM's first recording while two threads (a worker
 * and the maintenance thread, ticking every millisecond) keep making the allocator's events, the moment
 * in which JFR initializes under its own lock and calls cpuslab's listener. Prints {@code OK} once the
 * recording started and stopped, or {@code FAILED} with a thread dump if it did not within 20 s (the
 * recording's start waiting for an event class another thread is loading, which waits for JFR's lock).
 */
public final class RecorderStartMain {
    private RecorderStartMain() {
    }

    public static void main(String[] args) throws Exception {
        try (OffHeapAllocator allocator = CpuSlab.builder().softMemoryLimit(1 << 20).releaseRate(1L << 40)
                .maintenancePeriodMillis(1).idleDrainMillis(1).build()) {
            AtomicBoolean stop = new AtomicBoolean();
            Thread worker = Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    allocator.free(allocator.malloc(64));
                    allocator.free(allocator.malloc(2 << 20)); // page heap growth, soft limit, release
                }
            });
            Thread.sleep(20);
            Thread starter = Thread.ofPlatform().start(() -> {
                try (Recording recording = new Recording()) {
                    recording.enable("io.cpuslab.Release");
                    recording.start();
                    recording.stop();
                }
            });
            starter.join(TimeUnit.SECONDS.toMillis(20));
            boolean started = !starter.isAlive();
            stop.set(true);
            if (!started) {
                System.out.println("FAILED: the first recording did not start within 20 s");
                Thread.getAllStackTraces().forEach((thread, stack) -> {
                    System.out.println(thread);
                    for (StackTraceElement frame : stack) {
                        System.out.println("    at " + frame);
                    }
                });
                System.out.flush();
                Runtime.getRuntime().halt(1);
            }
            worker.join();
            System.out.println("OK");
        }
    }
}
