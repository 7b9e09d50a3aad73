package io.cpuslab.jcstress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunRecordTest {
    private static final List<String> NO_SPLIT = List.of("-sc", "false");

    @Test
    void theFirstRunClaimsTheDirectoryAndTheSameRunMayResumeIt(@TempDir Path reports) throws Exception {
        assertNull(RunRecord.claim(reports, "tough", NO_SPLIT));
        assertTrue(Files.readAllLines(reports.resolve(RunRecord.FILE)).contains("arguments -sc false"));
        assertNull(RunRecord.claim(reports, "tough", NO_SPLIT), "the same mode, arguments and class path resume");
    }

    @Test
    void aRunWithAnotherModeOrOtherArgumentsIsRefusedAndTheRecordKept(@TempDir Path reports) throws Exception {
        RunRecord.claim(reports, "tough", NO_SPLIT);
        List<String> record = Files.readAllLines(reports.resolve(RunRecord.FILE));
        String otherArguments = RunRecord.claim(reports, "tough", List.of());
        String otherMode = RunRecord.claim(reports, "stress", NO_SPLIT);
        assertNotNull(otherArguments);
        assertTrue(otherArguments.contains("holds results of another run"), otherArguments);
        assertNotNull(otherMode);
        assertTrue(Files.readAllLines(reports.resolve(RunRecord.FILE)).equals(record), "a refused run must not rewrite the record");
    }
}
