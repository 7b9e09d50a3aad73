package io.cpuslab.jcstress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunResultsTest {
    @Test
    void aFinishedRunsResultsFileIsKeptUnderTheNameThatMarksTheTestDone(@TempDir Path test) throws Exception {
        Path written = Files.writeString(test.resolve("jcstress-results-2026-11-21-12-00-00.bin.gz"), "results");
        RunResults.keep(test);
        assertFalse(Files.exists(written));
        assertEquals("results", Files.readString(test.resolve(RunResults.FILE)));
    }

    @Test
    void aRunThatWroteNoResultsLeavesTheTestNotDone(@TempDir Path test) throws Exception {
        RunResults.keep(test);
        assertFalse(Files.exists(test.resolve(RunResults.FILE)));
    }

    @Test
    void theResultsOfAStoppedRunAreDeletedBeforeTheTestRunsAgainAndNeverKept(@TempDir Path test) throws Exception {
        Path stopped = Files.writeString(test.resolve("jcstress-results-2026-11-21-11-00-00.bin.gz"), "stopped");
        Files.setLastModifiedTime(stopped, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        Path other = Files.writeString(test.resolve("index.html"), "report");
        RunResults.deleteUnfinished(test);
        assertFalse(Files.exists(stopped));
        assertTrue(Files.exists(other), "only JCStress results files go");
    }

    @Test
    void withTwoResultsFilesTheNewerIsKept(@TempDir Path test) throws Exception {
        Path older = Files.writeString(test.resolve("jcstress-results-2026-11-21-11-00-00.bin.gz"), "older");
        Files.setLastModifiedTime(older, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        Files.writeString(test.resolve("jcstress-results-2026-11-21-12-00-00.bin.gz"), "newer");
        RunResults.keep(test);
        assertEquals("newer", Files.readString(test.resolve(RunResults.FILE)));
    }

    @Test
    void aDirectoryWithoutResultsHasNoTests(@TempDir Path report) {
        assertTrue(RunResults.read(report).isEmpty());
        assertTrue(RunResults.read(report.resolve("missing")).isEmpty());
    }
}
