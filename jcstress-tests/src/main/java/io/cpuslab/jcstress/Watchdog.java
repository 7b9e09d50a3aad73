package io.cpuslab.jcstress;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a process with a time limit. JCStress has none of its own for a test that hangs (a corrupted
 * free list can loop forever, found by breaking a lock on purpose), so without one a hang would stall the
 * build until CI gives up. When the limit passes, every JVM in the process tree has its threads dumped
 * (where it hangs is what one wants to see) and the whole tree is killed.
 *
 * <pre>int exit = Watchdog.run(new ProcessBuilder(command), Duration.ofMinutes(10), reportDir);
 * if (exit == Watchdog.TIMED_OUT) { ... thread dumps are in reportDir/threads-&lt;pid&gt;.txt ... }</pre>
 */
final class Watchdog {
    /** What {@link #run} returns for a process it had to kill. No real exit code is negative. */
    static final int TIMED_OUT = -1;
    /** How long one thread dump may take; a JVM that does not answer is killed without one. */
    private static final long DUMP_SECONDS = 30;

    private Watchdog() {
    }

    /**
     * Starts {@code builder}'s process and returns its exit code, or {@link #TIMED_OUT} once it has run for
     * {@code limit}: then every JVM under it (itself included) has its threads dumped to
     * {@code dumps/threads-<pid>.txt} and the tree is killed, so no JVM of it is left behind.
     */
    static int run(ProcessBuilder builder, Duration limit, Path dumps) throws IOException, InterruptedException {
        Process process = builder.start();
        if (process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            return process.exitValue();
        }
        List<Path> written = new ArrayList<>();
        for (ProcessHandle member : tree(process)) {
            if (isJava(member)) {
                Path dump = dumps.resolve("threads-" + member.pid() + ".txt");
                if (dump(member, dump)) {
                    written.add(dump);
                }
            }
        }
        // Looked up again after the dumps (JCStress may have started a fork meanwhile), and all of it before
        // the first kill: a child whose parent is dead is no longer found from the process.
        for (ProcessHandle member : tree(process)) {
            member.destroyForcibly();
        }
        process.waitFor();
        System.out.printf("cpuslab JCStress: still running after %s, killed; thread dumps: %s%n",
                limit.toSeconds() < 60 ? limit.toSeconds() + " s" : limit.toMinutes() + " min",
                written.isEmpty() ? "none could be taken" : written);
        return TIMED_OUT;
    }

    /** The process and everything under it, the process last. */
    private static List<ProcessHandle> tree(Process process) {
        return Stream.concat(process.descendants(), Stream.of(process.toHandle())).toList();
    }

    private static boolean isJava(ProcessHandle member) {
        return member.info().command().map(c -> Path.of(c).getFileName().toString().equals("java")).orElse(false);
    }

    /** {@code jcmd <pid> Thread.print} into {@code file}; whether it wrote one. */
    private static boolean dump(ProcessHandle member, Path file) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process print = new ProcessBuilder(jcmd.toString(), Long.toString(member.pid()), "Thread.print")
                .redirectErrorStream(true).redirectOutput(file.toFile()).start();
        if (!print.waitFor(DUMP_SECONDS, TimeUnit.SECONDS)) {
            print.destroyForcibly();
            return false;
        }
        return print.exitValue() == 0;
    }
}
