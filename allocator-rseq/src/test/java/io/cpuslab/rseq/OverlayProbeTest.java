package io.cpuslab.rseq;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OverlayProbeTest {
    private static Map<String, String> checks(String contextSwitch, String signal, String ipi, String abort) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("registration", "ok (own, 32 bytes)");
        m.put("context_switch", contextSwitch);
        m.put("signal", signal);
        m.put("membarrier_ipi", ipi);
        m.put("membarrier_ipi_all", ipi);
        m.put("abort", abort);
        return m;
    }

    @RequiresRseq
    @Test
    void thisKernelPassesEveryCheckOutOfProcess() {
        OverlayProbe.Result r = OverlayProbe.result();
        assertEquals("ok", r.checks().get("context_switch"), r.toString());
        assertEquals("ok", r.checks().get("signal"), r.toString());
        assertEquals("ok", r.checks().get("abort"), r.toString());
        assumeTrue(Runtime.getRuntime().availableProcessors() > 1, "one CPU: the membarrier IPI checks cannot run");
        assertEquals("ok", r.checks().get("membarrier_ipi"), r.toString());
        assertEquals("ok", r.checks().get("membarrier_ipi_all"), r.toString());
        assertTrue(r.safe(), r.toString());
        assertNull(r.refusal());
    }

    @Test
    void linux619StyleResultsAreRefusedNamingTheCheck() {
        // 6.19 rewrites cpu_id_start only when the CPU changes: no rewrite after a sleep, a signal or an IPI.
        OverlayProbe.Result r = OverlayProbe.evaluate(checks("fail", "fail", "fail", "ok"), 1, "6.19.3", "amd64");
        assertFalse(r.safe());
        assertEquals("check context_switch gave fail", r.refusal());
        OverlayProbe.Result ipiOnly = OverlayProbe.evaluate(checks("ok", "ok", "fail", "ok"), 1, "6.18.2", "amd64");
        assertEquals("check membarrier_ipi gave fail", ipiOnly.refusal());
    }

    @Test
    void brokenAbortsAndSkippedChecksAreRefused() {
        assertEquals("check abort gave fail",
                OverlayProbe.evaluate(checks("ok", "ok", "ok", "fail"), 1, "6.19.0", "aarch64").refusal());
        assertTrue(OverlayProbe.evaluate(checks("ok", "ok", "skipped: needs two CPUs", "ok"), 1, "6.18.0", "amd64")
                .refusal().contains("membarrier_ipi gave skipped: needs two CPUs"));
    }

    @Test
    void aHelperKilledByTheKernelIsRefused() {
        OverlayProbe.Result r = OverlayProbe.evaluate(checks("ok", "ok", "ok", "ok"), 128 + 11, "6.18.0", "amd64");
        assertFalse(r.safe());
        assertTrue(r.refusal().contains("killed by signal 11"), r.refusal());
    }

    @Test
    void theVersionDenyListVetoesKnownBrokenKernels() {
        Map<String, String> allOk = checks("ok", "ok", "ok", "ok");
        assertTrue(OverlayProbe.evaluate(allOk, 0, "6.18.44-fc-v657", "amd64").safe());
        assertFalse(OverlayProbe.evaluate(allOk, 0, "6.19.0", "amd64").safe());
        assertFalse(OverlayProbe.evaluate(allOk, 0, "7.0.9", "amd64").safe());
        assertTrue(OverlayProbe.evaluate(allOk, 0, "7.0.10", "amd64").safe());
        assertFalse(OverlayProbe.evaluate(allOk, 0, "7.0.13-generic", "aarch64").safe());
        assertTrue(OverlayProbe.evaluate(allOk, 0, "7.0.14", "aarch64").safe());
        assertTrue(OverlayProbe.evaluate(allOk, 0, "7.1.0", "aarch64").safe());
        assertTrue(OverlayProbe.evaluate(allOk, 0, "6.19.2", "amd64").refusal().contains("deny-list"));
    }

    @Test
    void theDenyListCanBeWaivedForBackportedFixesButTheChecksStillDecide() {
        Map<String, String> allOk = checks("ok", "ok", "ok", "ok");
        System.setProperty(OverlayProbe.DENY_LIST_PROPERTY, "false");
        try {
            assertTrue(OverlayProbe.evaluate(allOk, 0, "7.0.0-28-generic", "amd64").safe());
            assertFalse(OverlayProbe.evaluate(checks("fail", "fail", "fail", "ok"), 1, "7.0.0-28-generic", "amd64").safe());
        } finally {
            System.clearProperty(OverlayProbe.DENY_LIST_PROPERTY);
        }
        assertTrue(OverlayProbe.evaluate(allOk, 0, "7.0.0-28-generic", "amd64").refusal()
                .contains("-Dcpuslab.rseq.overlayDenyList=false waives this veto"));
    }

    @Test
    void bootingWithRseqDebugModeIsAVeto() {
        assertTrue(OverlayProbe.rseqDebugVeto("BOOT_IMAGE=/vmlinuz root=/dev/vda rseq_debug=1 quiet\n")
                .contains("rseq_debug=1"));
        assertNull(OverlayProbe.rseqDebugVeto("BOOT_IMAGE=/vmlinuz rseq_debug=0 quiet"));
        assertNull(OverlayProbe.rseqDebugVeto("BOOT_IMAGE=/vmlinuz root=/dev/vda"));
    }

    @Test
    void helperOutputParsesIntoChecks() {
        Map<String, String> m = OverlayProbe.parse("registration=ok (own, 32 bytes)\ncontext_switch=ok\nsignal=fail\n");
        assertEquals("ok (own, 32 bytes)", m.get("registration"));
        assertEquals("fail", m.get("signal"));
    }
}
