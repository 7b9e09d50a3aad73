package io.cpuslab.jcstress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WatchdogTest {
    /** Time for both JVMs of the hang to start and reach their sleep, with room for a loaded machine. */
    private static final Duration HANG_LIMIT = Duration.ofSeconds(10);

    /**
     * Sleeps for good; {@code args[0]} marks the test's processes. With a second argument it first starts a
     * JVM like itself without one (a JCStress fork).
     */
    static final class Hang {
        public static void main(String[] args) throws Exception {
            if (args.length > 1) {
                new ProcessBuilder(hang(args[0])).inheritIO().start();
            }
            Thread.sleep(Long.MAX_VALUE);
        }
    }

    @Test
    void aHungProcessTreeHasItsThreadsDumpedAndIsKilledAtTheLimit(@TempDir Path dumps) throws Exception {
        String marker = dumps.toString();
        List<String> parent = hang(marker);
        parent.add("withChild");
        assertEquals(Watchdog.TIMED_OUT, Watchdog.run(new ProcessBuilder(parent).inheritIO(), HANG_LIMIT, dumps));
        // Among all processes: a child left alive when its parent died is no longer this JVM's descendant.
        List<ProcessHandle> left = ProcessHandle.allProcesses()
                .filter(p -> p.isAlive() && p.info().commandLine().orElse("").contains(marker)).toList();
        assertEquals(List.of(), left, "the parent and its child are killed");
        List<Path> threadDumps = files(dumps);
        assertEquals(2, threadDumps.size(), "a dump of each JVM: " + threadDumps);
        for (Path dump : threadDumps) {
            assertTrue(Files.readString(dump).contains(Hang.class.getName() + ".main"), "where it hangs: " + Files.readString(dump));
        }
    }

    @Test
    void aProcessEndingInTimeGivesItsExitCodeAndNoDump(@TempDir Path dumps) throws Exception {
        assertEquals(0, Watchdog.run(new ProcessBuilder(java(), "-version"), Duration.ofMinutes(1), dumps));
        assertEquals(List.of(), files(dumps));
    }

    /** The command line running {@link Hang} in a JVM like this one. */
    private static List<String> hang(String marker) {
        return new ArrayList<>(List.of(java(), "-cp", System.getProperty("java.class.path"), Hang.class.getName(), marker));
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static List<Path> files(Path directory) throws Exception {
        try (Stream<Path> list = Files.list(directory)) {
            return list.toList();
        }
    }
}
