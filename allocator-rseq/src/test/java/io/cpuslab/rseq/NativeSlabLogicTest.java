package io.cpuslab.rseq;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code slab_logic_test} (src/test/c): every critical section's result and refusals, with a faked
 * registration, on the host and, for the aarch64 sections, under qemu-user when the cross compiler
 * and qemu are installed.
 */
@RequiresRseq
class NativeSlabLogicTest {
    private static Path binary(String platform) throws Exception {
        Path natives = Path.of(NativeSlabLogicTest.class.getResource("/META-INF/native").toURI());
        return natives.resolve(platform).resolve("slab_logic_test");
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("SLAB LOGIC OK"), out);
    }

    @Test
    void x86SectionsDoWhatTheirContractsSay() throws Exception {
        Path test = binary("linux-x86_64");
        assumeTrue(Files.isExecutable(test), "no x86-64 build on this machine");
        run(List.of(test.toString()));
    }

    @Test
    void aarch64SectionsDoWhatTheirContractsSayUnderQemu() throws Exception {
        Path test = binary("linux-aarch64");
        assumeTrue(Files.isExecutable(test), "aarch64-linux-gnu-gcc not installed: aarch64 sections not built, check skipped");
        boolean onAarch64 = System.getProperty("os.arch").equals("aarch64");
        assumeTrue(onAarch64 || ForkedJvm.onPath("qemu-aarch64-static"), "qemu-user-static not installed: aarch64 check skipped");
        run(onAarch64 ? List.of(test.toString()) : List.of("qemu-aarch64-static", test.toString()));
    }
}
