package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.SlabLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@RequiresRseq
class RseqFrontEndTest {
    private static final int SC = 4;
    private final Arena arena = Arena.ofShared();
    private final SlabLayout layout = TestSlabs.onEveryCpu(arena);
    private final int slabs = layout.slabCount();
    private final RseqFrontEnd frontEnd = new RseqFrontEnd(layout, CpuSlab.Index.CPU, "test");

    @AfterEach
    void free() {
        frontEnd.close();
        arena.close();
    }

    private void growEverySlab() {
        for (int slab = 0; slab < slabs; slab++) {
            layout.grow(slab, SC, 64);
        }
    }

    @Test
    void theFastPathFlavourReadsTheFrontEndsSlabIndex() {
        assertEquals(NativeFastPath.Flavour.CPU_ID, frontEnd.nativeFlavour());
        try (Arena other = Arena.ofShared()) {
            RseqFrontEnd mmCid = new RseqFrontEnd(TestSlabs.onEveryCpu(other), CpuSlab.Index.MM_CID, "test");
            assertEquals(NativeFastPath.Flavour.MM_CID, mmCid.nativeFlavour());
            mmCid.close();
        }
    }

    @Test
    void autoChoosesRseqCompliantHereAndSaysHow() {
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.AUTO).build()) {
            FrontEndInfo info = a.frontEnd();
            assertEquals(FrontEndInfo.Kind.RSEQ_COMPLIANT, info.kind());
            assertTrue(info.toString().contains("rseq compliant front end"), info.toString());
            assertTrue(info.detail().contains("glibc's rseq registration") && info.detail().contains("cpu_id"), info.detail());
            if (Runtime.getRuntime().availableProcessors() > 1) {
                assertTrue(info.detail().contains("preemption and IPI aborts proven"), info.detail());
            }
            assertEquals("chosen by AUTO", info.reason());
            assertEquals(slabs, info.slabs());
        }
    }

    @Test
    void overlayWithGlibcsRegistrationIsRefusedSayingHowToStartTheJvmAndAutoFallsBackToCompliant() {
        var e = assertThrows(IllegalStateException.class,
                () -> CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY).build());
        assertTrue(e.getMessage().contains("glibc registered rseq for this process: start the JVM with "
                + "GLIBC_TUNABLES=glibc.pthread.rseq=0"), e.getMessage());
        try (OffHeapAllocator a = CpuSlab.builder().rseqMode(CpuSlab.RseqMode.OVERLAY).build()) {
            assertEquals(FrontEndInfo.Kind.RSEQ_COMPLIANT, a.frontEnd().kind());
            assertTrue(a.frontEnd().reason().contains("rseqMode=OVERLAY preferred but refused, running compliant: overlay mode "
                    + "needs cpuslab's own 32-byte rseq registration"), a.frontEnd().reason());
        }
    }

    @Test
    void everyPushedObjectComesBackExactlyOnceWhereverTheThreadRuns() {
        growEverySlab();
        java.util.Set<Long> outstanding = new java.util.HashSet<>();
        int pushed = 0;
        for (long i = 1; i <= 1000; i++) {
            if (frontEnd.push(SC, i * 16)) {
                outstanding.add(i * 16);
                pushed++;
            }
            long popped = frontEnd.pop(SC); // the caller's CPU now: after a migration, another slab
            assertTrue(popped == 0 || outstanding.remove(popped), "popped something never pushed: " + popped);
        }
        for (int slab = 0; slab < slabs; slab++) {
            for (long left; (left = layout.pop(slab, SC)) != 0; ) {
                assertTrue(outstanding.remove(left), "left in slab " + slab + " but never pushed: " + left);
            }
        }
        assertTrue(pushed > 0);
        assertTrue(outstanding.isEmpty(), "lost: " + outstanding);
    }

    @Test
    void slowPathCallsActOnlyOnTheSlabTheCallerIsOn() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(slabs > 1 && ForkedJvm.onPath("taskset"), "needs 2 CPUs and taskset");
        var r = ForkedJvm.run(List.of("taskset", "-c", "0"), Map.of(), List.of(), ExpectedSlabCheck.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("EXPECTED SLAB OK"), r.output());
    }

    @Test
    void stoppedSlabsMissUntilStarted() {
        growEverySlab();
        whileEverySlabIsStopped(0, () -> {
            assertFalse(frontEnd.push(SC, 0x100));
            assertEquals(0, frontEnd.pop(SC));
            assertEquals(0, frontEnd.grow(frontEnd.currentSlab(), SC, 1));
        });
        assertTrue(frontEnd.push(SC, 0x100));
        long popped = frontEnd.pop(SC); // 0 only if the thread moved to another CPU in between
        long found = popped;
        for (int slab = 0; slab < slabs && found == 0; slab++) {
            found = layout.pop(slab, SC);
        }
        assertEquals(0x100, found);
    }

    /** Runs {@code check} while slabs {@code slab..} are stopped, one inside the other. */
    private void whileEverySlabIsStopped(int slab, Runnable check) {
        if (slab == slabs) {
            check.run();
            return;
        }
        frontEnd.whileStopped(slab, (owned, s, sc, arg) -> {
            whileEverySlabIsStopped(s + 1, check);
            return 0;
        }, 0, 0);
    }

    /**
     * An owner that died between its work and clearing the stop word (a StackOverflowError) released the
     * lock but left the stop word set: the slow path's {@code currentSlab()} starts such a slab again.
     */
    @Test
    void aSlabLeftStoppedWithoutOwnerIsStartedByTheNextMiss() {
        growEverySlab();
        for (int slab = 0; slab < slabs; slab++) {
            layout.stopFastPath(slab); // stopped, owned by nobody
        }
        assertFalse(frontEnd.push(SC, 0x100), "stopped slabs miss");
        int slab = frontEnd.currentSlab();
        assertFalse(layout.isStopped(slab), "the slab the miss named was started");
        frontEnd.whileStopped(slab, (owned, s, sc, arg) -> { // an owner at work: the restart must leave its slab alone
            frontEnd.currentSlab();
            assertTrue(owned.isStopped(s), "an owned slab is not started behind its owner's back");
            return 0;
        }, 0, 0);
    }

    @Test
    void afterCloseEveryOperationMissesWithoutTouchingTheSlabs() {
        growEverySlab();
        frontEnd.close();
        assertFalse(frontEnd.push(SC, 0x100));
        assertEquals(0, frontEnd.pop(SC));
        assertEquals(0, frontEnd.grow(frontEnd.currentSlab(), SC, 1));
        assertEquals(0, frontEnd.popBatch(frontEnd.currentSlab(), SC, new long[4], 0, 4));
    }

    @Test
    void everyFailedCheckHasItsReason() {
        assertTrue(RseqLibrary.statusProblem(1 << 8).contains("no rseq system call"));
        assertTrue(RseqLibrary.statusProblem(1 << 9).contains("membarrier"));
        assertTrue(RseqLibrary.statusProblem(1 << 10).contains("own registration failed"));
        assertTrue(RseqLibrary.probeProblem(1).contains("resumed a preempted critical section"));
        assertTrue(RseqLibrary.probeProblem(2).contains("inconclusive"));
        assertEquals(null, RseqLibrary.probeProblem(RseqLibrary.PROBE_ABORTED));
        assertTrue(RseqLibrary.fenceProbeProblem(1).contains("fence did not abort a critical section"));
        assertEquals(null, RseqLibrary.fenceProbeProblem(RseqLibrary.PROBE_SKIPPED));
        assertEquals(null, RseqLibrary.fenceProbeProblem(RseqLibrary.PROBE_ABORTED));
        assertTrue(RseqFrontEndProvider.possibleCpus() >= Runtime.getRuntime().availableProcessors());
    }

    @Test
    void missingLibraryGivesTheLockedFrontEndWithTheReason() throws Exception {
        var r = fork(Map.of(), "-Dcpuslab.rseq.library=/nonexistent/libcpuslab_rseq.so");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("FRONT END: locked front end"), r.output());
        assertTrue(r.output().contains("no readable library at cpuslab.rseq.library=/nonexistent"), r.output());
    }

    @Test
    void unusableLibraryGivesTheLockedFrontEndWithTheReason() throws Exception {
        Path helper = Path.of(getClass().getResource("/META-INF/native/linux-x86_64/libcpuslab_rseq_test.so").toURI());
        var r = fork(Map.of(), "-Dcpuslab.rseq.library=" + helper);
        assertTrue(r.output().contains("FRONT END: locked front end"), r.output());
        assertTrue(r.output().contains("cannot load the native library") && r.output().contains("Symbol not found: cpuslab_rseq_"), r.output());
    }

    @Test
    void explicitRseqThatCannotRunFailsAndSaysWhy() throws Exception {
        var r = fork(Map.of(), "-Dcpuslab.rseq.library=/nonexistent/x.so", "-Dcpuslab.frontEnd=RSEQ");
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("no front end can run with frontEnd=RSEQ: rseq unavailable: cannot load"), r.output());
    }

    @Test
    void ownRegistrationIsUsedAndReportedWhenGlibcsIsOff() throws Exception {
        var r = fork(Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("FRONT END: rseq compliant front end") && r.output().contains("own 32-byte rseq registration"),
                r.output());
    }

    @Test
    void aThreadSomeoneElseRegisteredStillAllocatesThroughTheSlowPath() throws Exception {
        var r = ForkedJvm.run(List.of(), Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0"), List.of(),
                ForeignRegistrationCheck.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("FOREIGN REGISTRATION OK: 0 bytes in use"), r.output());
    }

    private static io.cpuslab.core.ForkedJvm.Result fork(Map<String, String> env, String... options) throws Exception {
        return ForkedJvm.run(List.of(), env, List.of(options), PrintFrontEnd.class);
    }
}
