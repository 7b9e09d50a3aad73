package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link TokenTorture} in every setting the issue asks for: all CPUs and pinned to one, with a signal
 * every 100 µs to each worker, glibc's registration and our own, cpu_id and mm_cid indexing, platform
 * and virtual threads. Each run is a few seconds; every one ends with every token found exactly once.
 */
@RequiresRseq
class RseqTortureTest {
    private static final int SECONDS = 3;
    private static final Map<String, String> OWN_REGISTRATION = Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0");

    @Test
    void allCpusWithSignalStorm() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.CPU, false, true)));
    }

    @Test
    void mmCidIndexWithSignalStorm() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.MM_CID, false, true)));
    }

    @Test
    void virtualThreadsMigratingBetweenCarriers() throws InterruptedException {
        System.out.println(TokenTorture.run(new TokenTorture.Options(SECONDS, CpuSlab.Index.CPU, true, false)));
    }

    @Test
    void pinnedToOneCpuWithSignalStorm() throws Exception {
        forked(List.of("taskset", "-c", "0"), Map.of(), CpuSlab.Index.CPU, "glibc");
    }

    @Test
    void ownRegistrationPinnedToOneCpuWithSignalStorm() throws Exception {
        forked(List.of("taskset", "-c", "0"), OWN_REGISTRATION, CpuSlab.Index.CPU, "own");
    }

    @Test
    void ownRegistrationWithMmCidIndexAndSignalStorm() throws Exception {
        forked(List.of(), OWN_REGISTRATION, CpuSlab.Index.MM_CID, "own");
    }

    private static void forked(List<String> prefix, Map<String, String> env, CpuSlab.Index index, String registration)
            throws Exception {
        if (!prefix.isEmpty()) {
            assumeTrue(ForkedJvm.onPath(prefix.getFirst()), prefix.getFirst() + " is not installed: pinned run skipped");
        }
        var result = ForkedJvm.run(prefix, env, List.of(), TokenTorture.class,
                new TokenTorture.Options(SECONDS, index, false, true).args());
        System.out.println(result.output());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("registration: " + registration), result.output());
        assertTrue(result.output().contains("TORTURE OK"), result.output());
    }
}
