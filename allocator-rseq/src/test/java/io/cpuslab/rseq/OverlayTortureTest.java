package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link TokenTorture} in overlay mode, in the settings of {@link RseqTortureTest}: all CPUs with a
 * signal every 100 µs per worker, mm_cid, virtual threads, and pinned to one CPU. Here the drainer's
 * stops are excluded only by the kernel invalidating cached slab words.
 */
@RequiresOwnRegistration
class OverlayTortureTest {
    private static final int SECONDS = 3;

    @Test
    void allCpusWithSignalStorm() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.CPU, false, true).overlay()));
    }

    @Test
    void mmCidIndexWithSignalStorm() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.MM_CID, false, true).overlay()));
    }

    @Test
    void virtualThreadsMigratingBetweenCarriers() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.CPU, true, false).overlay()));
    }

    @Test
    void pinnedToOneCpuWithSignalStorm() throws Exception {
        assumeTrue(ForkedJvm.onPath("taskset"), "taskset is not installed: pinned run skipped");
        var result = ForkedJvm.run(List.of("taskset", "-c", "0"), OwnRegistration.ENVIRONMENT, List.of(),
                TokenTorture.class, new TokenTorture.Options(SECONDS, CpuSlab.Index.CPU, false, true).overlay().args());
        System.out.println(result.output());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("registration: own 32") && result.output().contains("TORTURE OK"), result.output());
    }
}
