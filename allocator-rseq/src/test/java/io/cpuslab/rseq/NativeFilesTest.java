package io.cpuslab.rseq;

import io.cpuslab.core.ForkedJvm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NativeFilesTest {
    private static final List<String> MOUNTS = List.of(
            "/dev/vda / ext4 rw,relatime 0 0",
            "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime 0 0",
            "tmpfs /tmp/exec tmpfs rw,nosuid,nodev 0 0",
            "tmpfs /home/my\\040files tmpfs rw,noexec 0 0");

    @Test
    void theLibraryIsExtractedToTheConfiguredDirectoryAndDeletedOnceLoaded(@TempDir Path dir) throws Exception {
        assumeTrue(RseqLibrary.UNAVAILABLE == null, () -> "rseq cannot run here: " + RseqLibrary.UNAVAILABLE);
        var r = ForkedJvm.run(List.of(), Map.of(), List.of("-D" + NativeFiles.DIRECTORY_PROPERTY + "=" + dir), PrintFrontEnd.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("FRONT END: rseq compliant"), r.output());
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "nothing outlives the load");
        }
    }

    @RequiresRseq
    @Test
    void anUnusableDirectoryGivesTheLockedFrontEndAndNamesTheProperty() throws Exception {
        var r = ForkedJvm.run(List.of(), Map.of(), List.of("-D" + NativeFiles.DIRECTORY_PROPERTY + "=/nonexistent/dir"), PrintFrontEnd.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("FRONT END: locked front end"), r.output());
        assertTrue(r.output().contains("cannot extract native files to /nonexistent/dir: not a writable directory (-Dcpuslab.native.dir)"),
                r.output());
    }

    @Test
    void aNoexecMountIsFoundByTheLongestMountPointThatHoldsTheDirectory() {
        assertEquals("/tmp", NativeFiles.noexecMountOf(Path.of("/tmp"), MOUNTS));
        assertEquals("/tmp", NativeFiles.noexecMountOf(Path.of("/tmp/a/b"), MOUNTS));
        assertNull(NativeFiles.noexecMountOf(Path.of("/tmp/exec/a"), MOUNTS), "a mount inside /tmp that allows exec");
        assertNull(NativeFiles.noexecMountOf(Path.of("/tmpfoo"), MOUNTS), "path elements, not string prefixes");
        assertNull(NativeFiles.noexecMountOf(Path.of("/var/tmp"), MOUNTS));
        assertEquals("/home/my files", NativeFiles.noexecMountOf(Path.of("/home/my files/x"), MOUNTS), "octal escapes as in /proc/self/mounts");
        assertNull(NativeFiles.noexecMountOf(Path.of("/tmp"), List.of()), "no mount table: no claim");
    }

    @Test
    void aNoexecDirectorySaysSoInTheReason() throws Exception {
        Path noexec = Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                .map(line -> line.split(" "))
                .filter(f -> f.length > 3 && List.of(f[3].split(",")).contains("noexec") && List.of(f[3].split(",")).contains("rw"))
                .map(f -> Path.of(f[1])).filter(Files::isWritable).findFirst().orElse(null);
        assumeTrue(noexec != null, "no writable noexec mount on this machine: the parsing is tested above, the real load is skipped");
        var r = ForkedJvm.run(List.of(), Map.of(), List.of("-D" + NativeFiles.DIRECTORY_PROPERTY + "=" + noexec), PrintFrontEnd.class);
        assertTrue(r.output().contains("FRONT END: locked front end"), r.output());
        assertTrue(r.output().contains("mounted noexec: set -Dcpuslab.native.dir=DIR"), r.output());
    }
}
