package io.cpuslab.tools;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The 30-second soak run of the test command: no corruption, nothing leaked, progress printed. */
class SoakTest {
    @Test
    void thirtySecondSoakFindsNoCorruptionAndNoLeak() throws InterruptedException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Soak.Summary s = Soak.run(30, 2 * Runtime.getRuntime().availableProcessors(), out);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        assertTrue(s.passed(), printed);
        assertEquals(0, s.corrupted());
        assertEquals(0, s.leakedBytes());
        assertTrue(s.operations() > 100_000, "did real work: " + s.operations());
        assertTrue(s.crossThreadFrees() > 1_000, "freed across threads: " + s.crossThreadFrees());
        assertTrue(printed.lines().filter(l -> l.contains(" ops (")).count() >= 10, "a progress line every 2 s");
    }
}
