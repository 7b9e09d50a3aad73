package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An allocator whose construction fails leaves nothing behind: the caller never gets it, so nothing else
 * could close its parts. The caller gets the failure itself, with any failure of taking the parts down
 * suppressed in it.
 */
class AllocatorConstructionTest {

    /** The failure comes from a front end whose {@code info()} throws, which the constructor first calls after the parts are open. */
    @Test
    void aFailureAfterThePartsAreMadeTakesThemDownAndReachesTheCallerUnchanged() throws Exception {
        FaultyMemory os = new FaultyMemory();
        SleepingClock clock = new SleepingClock();
        IllegalStateException failure = new IllegalStateException("test: info() fails");
        OneSlabProvider provider = new OneSlabProvider();
        provider.onInfo = () -> {
            clock.sleeper.join(); // the failure finds the maintenance thread running
            throw failure;
        };
        AllocatorConfig config = AllocatorConfig.defaults(CpuSlab.FrontEnd.LOCKED).withOsMemory(os)
                .withHugePages(CpuSlab.HugePages.OFF).withMaintenance(1 << 20, 0, 1000).withMaintenanceClock(clock);

        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> new CpuSlabAllocator(config, new FrontEndSelection.Choice(provider, "test"), false));

        assertSame(failure, thrown);
        assertEquals(List.of(), List.of(thrown.getSuppressed()), "taking the parts down went cleanly");
        Thread maintenance = clock.sleeper.getNow(null);
        maintenance.join(TimeUnit.SECONDS.toMillis(10)); // close joins it; a leaked one sleeps for ever
        assertAll(() -> assertTrue(provider.frontEnd.closed, "the front end is closed"),
                () -> assertEquals(0, os.mappedBytes.get(), "the slabs are unmapped"),
                () -> assertFalse(maintenance.isAlive(), "the maintenance thread has stopped"));
    }

    /**
     * When the rollback's unmap of the slabs fails, the steps after it still run (the arena is closed) and
     * the caller still gets the failure that started the rollback, with unmap's suppressed in it. The
     * failure comes from the front end's {@code nativeFlavour()}, which the parts ask once the front end
     * is made.
     */
    @Test
    void aRollbackStepThatFailsNeitherStopsTheNextNorReplacesTheFailure() {
        FaultyMemory os = new FaultyMemory();
        OneSlabProvider provider = new OneSlabProvider();
        IllegalStateException failure = new IllegalStateException("test: nativeFlavour() fails");
        provider.flavourFailure = failure;
        os.failUnmaps(1); // the rollback's first unmap: the slabs
        AllocatorConfig config = AllocatorConfig.defaults(CpuSlab.FrontEnd.LOCKED).withOsMemory(os)
                .withHugePages(CpuSlab.HugePages.OFF).withJmx(false);

        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> new CpuSlabAllocator(config, new FrontEndSelection.Choice(provider, "test"), false));

        try {
            assertSame(failure, thrown);
            assertEquals(List.of("munmap of 256 KiB failed: errno 22 (simulated)"),
                    List.of(thrown.getSuppressed()).stream().map(Throwable::getMessage).toList(), "unmap's failure is suppressed");
            assertAll(() -> assertTrue(provider.frontEnd.closed, "the front end is closed"),
                    () -> assertThrows(IllegalStateException.class, () -> provider.layout.isStopped(0),
                            "the arena is closed: the slabs' view fails"),
                    () -> assertEquals(256 << 10, os.mappedBytes.get(), "only the slabs, whose unmap failed, are still mapped"));
        } finally {
            os.failedUnmaps.forEach(region -> os.unmap(region[0], region[1]));
        }
    }

    /**
     * The native page map is made before the page heap that unmaps it on close: when the parts fail in
     * between, the rollback unmaps it itself. Only an allocator whose front end has the native fast path
     * keeps one, so this runs in a JVM where a test provider brings it.
     */
    @Test
    void theNativePageMapIsUnmappedWhenThePageHeapThatWouldOwnItIsNotMade(@TempDir Path bootPath) throws Exception {
        ForkedJvm.Result r = withNativeFastPath(bootPath, "huge-pages");
        assertEquals("OK", r.verdict(), r.output());
    }

    /**
     * Once the page heap owns the native page map, the rollback's close of the page heap unmaps it, also
     * when the unmap of the slabs before it failed; and only it: a second unmap would read the map's root
     * after it is gone (the forked JVM dies of SIGSEGV).
     */
    @Test
    void thePageHeapIsClosedWhenTheRollbacksUnmapOfTheSlabsFails(@TempDir Path bootPath) throws Exception {
        ForkedJvm.Result r = withNativeFastPath(bootPath, "slab-unmap");
        assertEquals("OK", r.verdict(), r.output());
    }

    /**
     * Runs {@link NativePageMapRollbackMain} with its provider named in a services file on the boot class
     * path: the file is found there, the class on the class path.
     */
    private static ForkedJvm.Result withNativeFastPath(Path bootPath, String scenario) throws Exception {
        Path services = bootPath.resolve("META-INF/services/" + SlabFrontEndProvider.class.getName());
        Files.createDirectories(services.getParent());
        Files.writeString(services, NativePageMapRollbackMain.Provider.class.getName() + "\n");
        return ForkedJvm.run(List.of(), Map.of(), List.of("-Xbootclasspath/a:" + bootPath, "--enable-native-access=ALL-UNNAMED"),
                NativePageMapRollbackMain.class, scenario);
    }

    /** Each sleep of the maintenance thread lasts until it is interrupted; says which thread sleeps. */
    private static final class SleepingClock implements MaintenanceClock {
        final CompletableFuture<Thread> sleeper = new CompletableFuture<>();

        @Override
        public long nanoTime() {
            return 0;
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            sleeper.complete(Thread.currentThread());
            new CountDownLatch(1).await();
        }
    }
}
