package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.cpuslab.rseq.TestSlabs.check;

/**
 * For a JVM started with glibc's rseq off, with strace on the path: an overlay allocator closed by a
 * thread whose every membarrier call fails with ENOMEM (strace, attached to that thread alone, injects
 * it, as a kernel that cannot allocate its cpumask would answer) cannot fence every CPU. Its close throws,
 * overlay mode stays taken (see {@link OverlayFrontEnd#close}), an allocator that demands it is refused
 * with the reason, and one that only prefers it runs compliant. A JVM of its own: overlay mode stays taken
 * for the rest of it. Prints "SKIPPED: ..." when strace cannot attach (ptrace not allowed here).
 */
final class UnfencedCloseCheck {
    private static final long ATTACH_MILLIS = 10_000;

    private UnfencedCloseCheck() {
    }

    public static void main(String[] args) throws Exception {
        OffHeapAllocator overlay = overlay().build();
        check(overlay.frontEnd().kind() == FrontEndInfo.Kind.RSEQ_OVERLAY, "not overlay: " + overlay.frontEnd());
        overlay.free(overlay.malloc(64));

        CompletableFuture<Long> closerTid = new CompletableFuture<>();
        CountDownLatch traced = new CountDownLatch(1);
        Throwable[] closeFailure = new Throwable[1];
        Thread closer = Thread.ofPlatform().start(() -> {
            try {
                closerTid.complete(Long.parseLong(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString()));
                traced.await();
                overlay.close();
            } catch (Throwable e) {
                closeFailure[0] = e;
            }
        });
        long tid = closerTid.get(ATTACH_MILLIS, TimeUnit.MILLISECONDS);
        Process strace = new ProcessBuilder("strace", "-qq", "-e", "trace=membarrier", "-e", "inject=membarrier:error=ENOMEM",
                "-p", Long.toString(tid)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        boolean attached = false;
        for (long deadline = System.currentTimeMillis() + ATTACH_MILLIS; !attached && strace.isAlive()
                && System.currentTimeMillis() < deadline; Thread.sleep(10)) {
            attached = tracer(tid) != 0;
        }
        if (!attached) {
            strace.destroy();
            System.out.println("SKIPPED: strace could not attach to the closing thread (exit " + strace.waitFor() + ")");
            traced.countDown();
            closer.join();
            return;
        }
        traced.countDown();
        closer.join();
        strace.destroy();
        strace.waitFor();

        System.out.println("close: " + closeFailure[0]);
        check(closeFailure[0] instanceof IllegalStateException e && "cpuslab: membarrier fence failed: errno 12".equals(e.getMessage()),
                "close did not fail with the fence");
        try (OffHeapAllocator again = overlay().build()) {
            check(false, "overlay mode was given back: " + again.frontEnd());
        } catch (IllegalStateException e) {
            System.out.println("demanded: " + e.getMessage());
        }
        try (OffHeapAllocator preferred = CpuSlab.builder().rseqMode(CpuSlab.RseqMode.OVERLAY).build()) {
            System.out.println("preferred: " + preferred.frontEnd().kind() + ", " + preferred.frontEnd().reason());
            check(preferred.frontEnd().kind() == FrontEndInfo.Kind.RSEQ_COMPLIANT, "not compliant");
            preferred.free(preferred.malloc(64));
        }
        System.out.println("OK");
    }

    private static CpuSlab.Builder overlay() {
        return CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY);
    }

    /** The thread's tracer's pid, 0 for none. */
    private static long tracer(long tid) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/task/" + tid + "/status")).stream()
                .filter(line -> line.startsWith("TracerPid:"))
                .mapToLong(line -> Long.parseLong(line.substring("TracerPid:".length()).trim()))
                .findFirst().orElse(0);
    }
}
