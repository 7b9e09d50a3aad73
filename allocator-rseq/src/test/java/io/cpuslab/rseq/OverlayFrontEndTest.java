package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.SlabLayout;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Overlay mode where the probe allows it: how it is chosen and refused, the conflict with other users
 * of {@code cpu_id_start} that the kernel developers objected to, and what a kernel that misses an
 * invalidation (Linux 6.19) does to it.
 */
@RequiresOwnRegistration
class OverlayFrontEndTest {
    private static final int READS = 1000;
    private static final int SC = 4;

    private static OffHeapAllocator overlay() {
        return CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY).build();
    }

    @Test
    void overlayRunsWhereTheKernelProbePassedAndSaysSo() {
        try (OffHeapAllocator a = overlay()) {
            FrontEndInfo info = a.frontEnd();
            assertEquals(FrontEndInfo.Kind.RSEQ_OVERLAY, info.kind());
            assertTrue(info.detail().contains("overlay mode (slab word cached over cpu_id_start, kernel probe passed)")
                    && info.detail().contains("own 32-byte rseq registration"), info.detail());
            assertEquals("requested with frontEnd=RSEQ, rseqMode=OVERLAY", info.reason());
            long p = a.malloc(64);
            a.free(p);
            assertEquals(p, a.malloc(64), "the cached slab serves the next allocation");
        }
    }

    /** Whatever the index, the fast path of an overlay front end finds the slab from the cached word. */
    @Test
    void theFastPathFlavourIsOverlayWhateverTheIndex() {
        for (CpuSlab.Index index : CpuSlab.Index.values()) {
            try (Arena arena = Arena.ofShared()) {
                OverlayFrontEnd frontEnd = new OverlayFrontEnd(TestSlabs.onEveryCpu(arena), index, "test");
                assertEquals(NativeFastPath.Flavour.OVERLAY, frontEnd.nativeFlavour(), index.toString());
                frontEnd.close();
            }
        }
    }

    @Test
    void oneOpenAllocatorPerProcessMayUseOverlayMode() {
        try (OffHeapAllocator first = overlay()) {
            var e = assertThrows(IllegalStateException.class, OverlayFrontEndTest::overlay);
            assertTrue(e.getMessage().contains("another open allocator in this process uses overlay mode"), e.getMessage());
            try (OffHeapAllocator second = CpuSlab.builder().rseqMode(CpuSlab.RseqMode.OVERLAY).build()) {
                assertEquals(FrontEndInfo.Kind.RSEQ_COMPLIANT, second.frontEnd().kind());
                assertTrue(second.frontEnd().reason().contains("preferred but refused, running compliant: another open allocator"),
                        second.frontEnd().reason());
            }
            first.free(first.malloc(100));
        }
        try (OffHeapAllocator again = overlay()) {
            assertEquals(FrontEndInfo.Kind.RSEQ_OVERLAY, again.frontEnd().kind(), "free again once the first closed");
        }
    }

    /**
     * A close that cannot fence every CPU keeps overlay mode taken (threads may still hold its cached slab
     * words; see {@link OverlayFrontEnd#close}), and later allocators are told why rather than to close an
     * open one. In a JVM of its own, since overlay mode then stays taken there; strace makes every
     * membarrier call of the closing thread fail with ENOMEM.
     */
    @Test
    void aCloseThatCannotFenceKeepsOverlayModeTakenAndLaterAllocatorsAreToldWhy() throws Exception {
        assumeTrue(ForkedJvm.onPath("strace"), "strace is not installed: fence failure check skipped");
        var r = ForkedJvm.run(List.of(), OwnRegistration.ENVIRONMENT, List.of(), UnfencedCloseCheck.class);
        System.out.println(r.output());
        assumeFalse(r.output().contains("SKIPPED:"), r.output());
        assertEquals(0, r.exitCode(), r.output());
        String why = "overlay mode stays taken in this process: an allocator that used it could not fence every CPU when it "
                + "closed (cpuslab: membarrier fence failed: errno 12), so threads may still hold its cached slab words";
        String demanded = r.output().lines().filter(line -> line.startsWith("demanded: ")).findFirst().orElse(r.output());
        assertTrue(demanded.endsWith(": " + why), demanded);
        String preferred = r.output().lines().filter(line -> line.startsWith("preferred: ")).findFirst().orElse(r.output());
        assertTrue(preferred.startsWith("preferred: RSEQ_COMPLIANT, ")
                && preferred.endsWith("rseqMode=OVERLAY preferred but refused, running compliant: " + why), preferred);
    }

    /**
     * The cached word belongs to the thread, not the allocator: after an overlay allocator closed and
     * another cached its slab, calls on the closed one must still fail rather than reach the new one's.
     */
    @Test
    void aClosedOverlayAllocatorRefusesCallsWhileAnotherHoldsTheThreadsCachedSlab() {
        OffHeapAllocator closed = overlay();
        long p = closed.malloc(64);
        closed.close();
        try (OffHeapAllocator next = overlay()) {
            for (int i = 0; i < 100; i++) {
                next.free(next.malloc(64)); // this thread's word now caches next's slab
                assertThrows(IllegalStateException.class, () -> closed.freeSized(p, 64));
                assertThrows(IllegalStateException.class, () -> closed.free(p));
                assertThrows(IllegalStateException.class, () -> closed.malloc(64));
            }
            assertEquals(0, next.stats().applicationBytes());
        }
    }

    /**
     * A fence of every CPU (mm_cid mode) skips the calling thread, so the stopping thread's own cached
     * slab must be dropped by the stop itself: no fast-path push of its own may reach the stopped slab.
     */
    @Test
    void theStoppingThreadCannotReachTheSlabItStopped() {
        for (CpuSlab.Index index : CpuSlab.Index.values()) {
            try (Arena arena = Arena.ofShared()) {
                SlabLayout layout = TestSlabs.onEveryCpu(arena);
                OverlayFrontEnd frontEnd = new OverlayFrontEnd(layout, index, "test");
                for (int i = 0; i < 2000; i++) {
                    int slab = frontEnd.currentSlab();
                    layout.grow(slab, SC, 1);
                    int[] length = new int[1];
                    boolean pushed = frontEnd.whileStopped(slab, (stopped, s, sc, address) -> {
                        boolean in = frontEnd.push(sc, address);
                        length[0] = stopped.length(s, sc);
                        return in ? 1 : 0;
                    }, SC, 16L * (i + 1)) == 1;
                    assertFalse(pushed, index + ": a push reached stopped slab " + slab + " (length " + length[0] + ")");
                }
                frontEnd.close();
            }
        }
    }

    /**
     * Hyrum's law: the rseq ABI promises every user of the thread's registration that cpu_id_start is a
     * CPU number the kernel keeps up to date. A compliant allocator keeps that promise; overlay mode
     * writes a slab address over it, so another ABI-compliant reader in the same thread (librseq's
     * rseq_cpu_start(), say) reads garbage until the next preemption rewrites it.
     */
    @Test
    void anotherRseqUserReadsTheRightCpuInCompliantModeAndGarbageInOverlayMode() {
        MemorySegment area = SelfCheckHooks.area();
        int compliantWrong;
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build()) {
            compliantWrong = wrongCpuIdStartReads(a, area);
        }
        int overlayWrong;
        long example;
        try (OffHeapAllocator a = overlay()) {
            overlayWrong = wrongCpuIdStartReads(a, area);
            example = Integer.toUnsignedLong(area.get(ValueLayout.JAVA_INT, 0));
        }
        System.out.printf("cpu_id_start read right after an allocation: %d of %d reads wrong in compliant mode, %d of %d in "
                + "overlay mode (e.g. 0x%x where cpu_id says %d)%n", compliantWrong, READS, overlayWrong, READS, example,
                area.get(ValueLayout.JAVA_INT, 4));
        assertEquals(0, compliantWrong, "compliant mode must never disturb cpu_id_start");
        // Every read would have to follow a preemption for this to fail: it does not happen 1000 times in a row.
        assertTrue(overlayWrong > 0, "overlay mode overwrote cpu_id_start in none of " + READS + " reads");
    }

    /** Reads cpu_id_start and cpu_id together (one 8-byte load) after each allocation; counts mismatches. */
    private static int wrongCpuIdStartReads(OffHeapAllocator a, MemorySegment area) {
        int wrong = 0;
        for (int i = 0; i < READS; i++) {
            a.free(a.malloc(64));
            long both = area.get(ValueLayout.JAVA_LONG, 0);
            if ((int) both != (int) (both >>> 32)) {
                wrong++;
            }
        }
        return wrong;
    }

    /**
     * The Linux 6.19 regression, simulated pinned to one CPU: a test hook puts the cached slab word back
     * after the kernel invalidated it. The check first proves this kernel does invalidate on a fence,
     * then that a missed invalidation lets a push commit into a slab core has stopped.
     */
    @Test
    void aMissedInvalidationLetsAPushIntoAStoppedSlabAndItIsDetected() throws Exception {
        assumeTrue(ForkedJvm.onPath("taskset"), "taskset is not installed: pinned check skipped");
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1, "one online CPU: membarrier sends no IPI to check");
        var r = ForkedJvm.run(List.of("taskset", "-c", "0"), OwnRegistration.ENVIRONMENT, List.of(),
                MissedInvalidationCheck.class);
        System.out.println(r.output());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("fence invalidated the cached slab: yes"), r.output());
        assertTrue(r.output().contains("MISSED INVALIDATION DETECTED: a push committed into stopped slab 0"), r.output());
    }

    /**
     * The same simulation under the torture: workers put their cached word back (when still on its CPU)
     * before every push and pop, while the drainer stops and drains slabs. Rounds of 2 s run until the
     * token check catches the result, a token handed out twice or lost; the forked JVM reports it and
     * is not harmed beyond that.
     */
    @Test
    void underTortureAMissedInvalidationHandsTokensOutTwiceOrLosesThem() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1, "one CPU: the drainer never runs beside a worker");
        TokenTorture.Options options = new TokenTorture.Options(2, CpuSlab.Index.CPU, false, false,
                CpuSlab.RseqMode.OVERLAY, true);
        var r = ForkedJvm.run(List.of(), OwnRegistration.ENVIRONMENT, List.of(), TokenTorture.class, options.args());
        System.out.println(r.output());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().matches("(?s).*MISSED INVALIDATION CAUGHT in round \\d+: token 0x[0-9a-f]+ (seen twice|lost).*"), r.output());
    }
}
