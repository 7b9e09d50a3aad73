package io.cpuslab.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench}'s machinery in its tiny configuration: every benchmark method, a virtual-thread run, a
 * preloaded peer's forked run and the footprint child JVMs, for every peer this machine has. A broken
 * benchmark, a peer that stops loading or a report that loses a skip reason fails here. The numbers
 * themselves are not checked (this is no place for timing assertions).
 */
class BenchSuiteTest {
    @Test
    void everyWorkloadRunsForEveryAvailablePeerAndEverySkipSaysWhy(@TempDir Path dir) throws IOException {
        // This run measures nothing, so another build's JMH run on the machine (worktrees build side by
        // side) must not fail it; the real runs respect JMH's lock and wait.
        System.setProperty("jmh.ignoreLock", "true");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Results r = Bench.run("smoke", Suite.smoke(), Settings.TINY, dir, out);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(printed);

        assertTrue(r.peers().contains(Peers.BASELINE), Peers.BASELINE + " runs on the test machine: " + r.skipped());
        assertTrue(r.peers().contains("glibc") && r.peers().contains("netty-pooled"), "peers that need no package: " + r.peers());
        for (Peers.Spec spec : Peers.all()) {
            boolean ran = r.peers().contains(spec.name());
            String reason = r.skipped().get(spec.name());
            assertTrue(ran != (reason != null), spec.name() + " either runs or is skipped with a reason");
            if (reason != null) {
                assertFalse(reason.isBlank());
                assertTrue(printed.contains("skipped " + spec.name() + ": " + reason), "the skip is printed");
            }
        }

        assertMeasured(r.floor(), "floor");
        int cells = 1;
        for (Workload w : r.workloads()) {
            if (!w.perPeer()) {
                continue;
            }
            for (String peer : r.peers()) {
                cells++;
                Outcome o = r.outcome(w, peer);
                String excluded = w.excluded().apply(Peers.spec(peer));
                if (excluded == null) {
                    assertMeasured(o, w.label() + " / " + peer);
                } else {
                    assertEquals("not applicable: " + excluded, o.note());
                }
            }
        }
        assertEquals(cells, printed.lines().filter(l -> l.matches("\\[\\s*\\d+/" + "\\d+.*")).count(), "one progress line per run");

        for (String peer : r.peers()) {
            Footprint.Report f = r.footprints().get(peer);
            assertNotNull(f, peer + " has a footprint entry");
            if (Footprint.excluded(Peers.spec(peer)) != null) {
                assertTrue(f.failure().startsWith("not applicable"), f.failure());
                continue;
            }
            assertNull(f.failure(), peer + "'s footprint child JVM");
            assertEquals(List.of("2 platform threads", "20 platform threads", "200 virtual threads"),
                    f.phases().stream().map(Footprint.Phase::label).toList());
            if (peer.startsWith("cpuslab") || List.of("glibc", "jemalloc", "tcmalloc", "netty-pooled").contains(peer)) {
                assertTrue(f.phases().stream().allMatch(p -> p.cachedBytes() >= 0), peer + " reports cached bytes: " + f);
            }
        }

        String svg = Files.readString(dir.resolve("smoke.svg"));
        assertTrue(svg.startsWith("<svg") && svg.endsWith("</svg>\n"));
        for (String peer : r.peers()) {
            assertTrue(svg.contains(">" + peer + "</text>"), peer + " has bars in the chart");
        }
        List<String> csv = Files.readAllLines(dir.resolve("smoke.csv"));
        assertTrue(csv.size() > cells, "every number in the CSV: " + csv.size() + " lines");
        String table = Files.readString(dir.resolve("smoke.txt"));
        assertTrue(table.contains(Peers.BASELINE));
        assertTrue(table.contains(Workload.echo(16).label() + ": ratio to " + Peers.CPUSLAB_NETTY), "the echo's own ratio baseline is named");
    }

    private static void assertMeasured(Outcome o, String what) {
        assertNotNull(o, what + " ran");
        assertTrue(o.hasNumber(), what + ": " + o.note());
        assertTrue(o.nanos() > 0 && Double.isFinite(o.nanos()), what + ": " + o.nanos());
    }
}
