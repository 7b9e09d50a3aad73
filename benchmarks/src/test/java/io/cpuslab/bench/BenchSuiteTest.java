package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench}'s machinery in its tiny configuration: every benchmark method, a virtual-thread run, a
 * preloaded peer's forked run and the footprint child JVMs, for every peer this machine has; and a run
 * of a subset named as on the command line. A broken benchmark, a peer that stops loading, a report
 * that loses a skip reason or a subset that runs more than it names fails here. The numbers themselves
 * are not checked (this is no place for timing assertions).
 */
class BenchSuiteTest {
    private static final String PROGRESS_LINE = "\\[\\s*\\d+/\\d+.*";

    @BeforeAll
    static void ignoreJmhLock() {
        // These runs measure nothing, so another build's JMH run on the machine (worktrees build side by
        // side) must not fail them; the real runs respect JMH's lock and wait.
        System.setProperty("jmh.ignoreLock", "true");
    }

    @Test
    void everyWorkloadRunsForEveryAvailablePeerAndEverySkipSaysWhy(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Results r = Bench.run(Plan.whole("smoke", Settings.TINY, Suite.smoke()), dir, printTo(bytes));
        String printed = printed(bytes);

        String rseqRefusal = rseqRefusal();
        if (rseqRefusal == null) {
            assertTrue(r.peers().contains(Peers.BASELINE), Peers.BASELINE + " runs where the rseq front end can: " + r.skipped());
        } else {
            assertEquals(rseqRefusal, r.skipped().get(Peers.BASELINE), "skipped, saying why");
        }
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

        assertTrue(r.workloads().stream().map(Workload::key).toList().containsAll(List.of("bulk-1000", "pair-64-sized")),
                "the bulk and sized-free workloads are in the run");
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
        assertEquals(cells, printed.lines().filter(l -> l.matches(PROGRESS_LINE)).count(), "one progress line per run");

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

        // Three iterations: JMH gives every score its error, which the chart and the CSV must carry.
        List<Outcome> measured = r.cells().values().stream().flatMap(row -> row.values().stream()).filter(Outcome::hasNumber).toList();
        assertTrue(measured.stream().allMatch(o -> Double.isFinite(o.errorNanos())), "every score has its error: " + measured);

        String svg = Files.readString(dir.resolve("smoke.svg"));
        assertTrue(svg.startsWith("<svg") && svg.endsWith("</svg>\n"));
        for (String peer : r.peers()) {
            assertTrue(svg.contains(">" + peer + "</text>"), peer + " has bars in the chart");
        }
        assertEquals(measured.size() - 1, svg.split("class=\"error\"", -1).length - 1, "an error whisker on every bar (the floor is a line)");
        List<String> csv = Files.readAllLines(dir.resolve("smoke.csv"));
        assertTrue(csv.size() > cells, "every number in the CSV: " + csv.size() + " lines");
        assertEquals("workload,peer,ns_per_op,error_ns,rss_growth_bytes,cached_bytes,note", csv.getFirst());
        Pattern scoreAndError = Pattern.compile("^\"(?:[^\"]|\"\")*\",\"(?:[^\"]|\"\")*\",([^,]+),([^,]+),.*");
        assertEquals(measured.size(), csv.stream().filter(line -> scoreAndError.matcher(line).matches()).count(),
                "every score in the CSV with its error");
        String table = Files.readString(dir.resolve("smoke.txt"));
        assertTrue(table.contains(Peers.BASELINE));
        assertTrue(table.contains(Workload.echo(16).label() + ": ratio to " + Peers.CPUSLAB_NETTY), "the echo's own ratio baseline is named");
    }

    @Test
    void aSubsetRunMeasuresOnlyTheNamedWorkloadsAndPeersAndTheFloor(@TempDir Path dir) {
        Plan named = Plan.parse(List.of("--full", "--workloads", "bulk-1000,pair-64-sized", "--peers", "glibc,cpuslab-locked"));
        assertEquals(List.of("floor", "pair-64-sized", "bulk-1000"), named.workloads().stream().map(Workload::key).toList(),
                "the full suite's order, the floor first since the others measure peers");
        assertFalse(named.memory(), "memory runs only when named");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Results r = Bench.run(new Plan("subset", Settings.TINY, named.workloads(), named.memory(), named.peers()), dir, printTo(bytes));
        String printed = printed(bytes);

        assertEquals(List.of("cpuslab-locked", "glibc"), r.peers(), "the named peers, in the suite's order");
        assertEquals(Map.of(), r.skipped(), "peers not named are not reported as skipped");
        assertFalse(printed.contains("skipped"), printed);
        assertEquals(Set.of("floor", "pair-64-sized", "bulk-1000"), r.cells().keySet());
        assertMeasured(r.floor(), "floor");
        assertEquals(Set.of("cpuslab-locked", "glibc"), r.cells().get("bulk-1000").keySet());
        assertEquals(Set.of("cpuslab-locked", "glibc"), r.cells().get("pair-64-sized").keySet());
        assertMeasured(r.cells().get("bulk-1000").get("glibc"), "bulk / glibc");
        assertMeasured(r.cells().get("bulk-1000").get("cpuslab-locked"), "bulk / cpuslab-locked");
        assertMeasured(r.cells().get("pair-64-sized").get("cpuslab-locked"), "freeSized / cpuslab-locked");
        assertEquals("not applicable: has no free that takes the block's size", r.cells().get("pair-64-sized").get("glibc").note());
        assertEquals(5, printed.lines().filter(l -> l.matches(PROGRESS_LINE)).count(), "floor + 2 workloads x 2 peers");
        assertTrue(r.footprints().isEmpty(), "no memory workload: " + r.footprints().keySet());
        assertFalse(printed.contains("[memory]"), printed);
    }

    @Test
    void namingOnlyMemoryRunsItForTheNamedPeersWithoutTheFloor(@TempDir Path dir) {
        Plan named = Plan.parse(List.of("--workloads", "memory", "--peers", "glibc"));
        assertEquals(List.of(), named.workloads(), "no JMH workload, so no floor");

        Results r = Bench.run(new Plan("memory", Settings.TINY, named.workloads(), named.memory(), named.peers()), dir,
                printTo(new ByteArrayOutputStream()));

        assertEquals(Set.of("glibc"), r.footprints().keySet());
        assertNull(r.footprints().get("glibc").failure(), "glibc's footprint child JVM");
        assertTrue(r.cells().isEmpty(), "no JMH run: " + r.cells());
    }

    @Test
    void anUnknownWorkloadOrPeerFailsWithEveryKnownName() {
        IllegalArgumentException workload = assertThrows(IllegalArgumentException.class,
                () -> Plan.parse(List.of("--quick", "--workloads", "pair-64,pair-65")));
        assertTrue(workload.getMessage().startsWith("unknown workload 'pair-65'; known: "), workload.getMessage());
        for (String key : Plan.workloadKeys()) {
            assertTrue(workload.getMessage().contains(key), key + " in: " + workload.getMessage());
        }
        assertTrue(Plan.workloadKeys().containsAll(List.of("pair-64", "random-replacement", "bulk-1000", "pair-64-sized", "memory")));

        IllegalArgumentException peer = assertThrows(IllegalArgumentException.class,
                () -> Plan.parse(List.of("--peers", "glibc,ptmalloc")));
        assertTrue(peer.getMessage().startsWith("unknown peer 'ptmalloc'; known: "), peer.getMessage());
        for (Peers.Spec spec : Peers.all()) {
            assertTrue(peer.getMessage().contains(spec.name()), spec.name() + " in: " + peer.getMessage());
        }

        assertThrows(IllegalArgumentException.class, () -> Plan.parse(List.of("--workloads")), "a flag needs its list");
        assertThrows(IllegalArgumentException.class, () -> Plan.parse(List.of("--peers", "--full")), "a flag needs its list");
        assertThrows(IllegalArgumentException.class, () -> Plan.parse(List.of("--quick", "--full")), "one mode");
        assertThrows(IllegalArgumentException.class, () -> Plan.parse(List.of("--quik")), "unknown option");
    }

    @Test
    void withoutFlagsAModeRunsItsWholeSuiteAndMemoryForEveryPeer() {
        Plan quick = Plan.parse(List.of());
        assertEquals("quick", quick.name());
        assertEquals(Settings.QUICK, quick.settings());
        assertEquals(Suite.quick().stream().map(Workload::key).toList(), quick.workloads().stream().map(Workload::key).toList());
        assertTrue(quick.memory());
        assertEquals(Peers.all(), quick.peers());

        Plan full = Plan.parse(List.of("--full"));
        assertEquals(Settings.FULL, full.settings());
        assertEquals(Plan.workloadKeys().subList(0, Plan.workloadKeys().size() - 1),
                full.workloads().stream().map(Workload::key).toList());
    }

    private static PrintStream printTo(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    /** What the run printed, echoed into the test's output. */
    private static String printed(ByteArrayOutputStream bytes) {
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        return printed;
    }

    private static void assertMeasured(Outcome o, String what) {
        assertNotNull(o, what + " ran");
        assertTrue(o.hasNumber(), what + ": " + o.note());
        assertTrue(o.nanos() > 0 && Double.isFinite(o.nanos()), what + ": " + o.nanos());
    }

    /**
     * Why the rseq front end cannot run here (no library built for this machine, no C compiler at build
     * time, an old kernel, another OS), or null where it can: the reason the peer's skip must give.
     */
    private static String rseqRefusal() {
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build()) {
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }
}
