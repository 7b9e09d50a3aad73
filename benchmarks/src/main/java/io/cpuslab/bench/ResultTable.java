package io.cpuslab.bench;

import io.cpuslab.core.Bytes;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The side-by-side text tables of a run: nanoseconds per operation with the ratio to cpuslab for each
 * workload, then the memory table, then every peer or cell that has no number and why.
 *
 * <pre>{@code
 * System.out.print(ResultTable.render(results));
 * }</pre>
 */
public final class ResultTable {
    private static final int PEER_WIDTH = 18;
    private static final int CELL_WIDTH = 22;

    private ResultTable() {
    }

    /** {@code 8.78 ± 0.07 ns (1.23x)}: the ratio is to the baseline peer; none when it has no number. */
    static String cell(Outcome o, Outcome baseline) {
        if (o == null) {
            return "-";
        }
        if (!o.hasNumber()) {
            return o.note();
        }
        String error = Double.isNaN(o.errorNanos()) ? "" : String.format(Locale.ROOT, " ± %s", number(o.errorNanos()));
        String ratio = baseline != null && baseline.hasNumber() && baseline != o
                ? String.format(Locale.ROOT, " (%.2fx)", o.nanos() / baseline.nanos())
                : "";
        return number(o.nanos()) + error + " ns" + ratio;
    }

    /** The short form in the table: value and ratio, no error. */
    private static String shortCell(Outcome o, Outcome baseline) {
        if (o == null) {
            return "-";
        }
        if (!o.hasNumber()) {
            return o.note().startsWith("not applicable") ? "n/a" : "failed";
        }
        String ratio = baseline != null && baseline.hasNumber() ? String.format(Locale.ROOT, " (%.2fx)", o.nanos() / baseline.nanos()) : "";
        return number(o.nanos()) + ratio;
    }

    /** A footprint report's phases on one line. */
    static String footprintLine(Footprint.Report r) {
        List<String> parts = new ArrayList<>();
        for (Footprint.Phase p : r.phases()) {
            parts.add(p.label() + ": " + footprintCell(p));
        }
        return String.join("; ", parts);
    }

    private static String footprintCell(Footprint.Phase p) {
        String cached = p.cachedBytes() == Peer.NOT_REPORTED ? "" : ", cached " + Bytes.format(p.cachedBytes());
        return "RSS +" + Bytes.format(p.rssGrowthBytes()) + cached;
    }

    public static String render(Results r) {
        StringBuilder sb = new StringBuilder();
        sb.append("machine:  ").append(r.machine()).append('\n');
        sb.append("settings: ").append(r.settings().name()).append('\n');
        Outcome floor = r.floor();
        if (floor != null) {
            sb.append("floor:    two empty critical downcalls: ").append(cell(floor, null)).append('\n');
        }
        sb.append('\n');
        sb.append("ns per operation, lower is better; (ratio to ").append(Peers.BASELINE)
                .append("), above 1.00x = slower than it. Threads and pairs: ns per operation of the whole run.\n");
        List<Workload> columns = r.workloads().stream().filter(Workload::perPeer).toList();
        for (Workload w : columns) {
            if (!w.ratioTo().equals(Peers.BASELINE)) {
                sb.append(w.label()).append(": ratio to ").append(w.ratioTo()).append('\n');
            }
        }
        sb.append(pad("peer", PEER_WIDTH));
        for (Workload w : columns) {
            sb.append(pad(w.label(), CELL_WIDTH));
        }
        sb.append('\n');
        for (String peer : r.peers()) {
            sb.append(pad(peer, PEER_WIDTH));
            for (Workload w : columns) {
                Outcome baseline = r.outcome(w, w.ratioTo());
                sb.append(pad(shortCell(r.outcome(w, peer), baseline), CELL_WIDTH));
            }
            sb.append('\n');
        }
        appendBaselineToFloor(sb, r, floor);
        appendFootprints(sb, r);
        appendNotes(sb, r, columns);
        return sb.toString();
    }

    private static void appendBaselineToFloor(StringBuilder sb, Results r, Outcome floor) {
        Outcome pair = r.outcome(Workload.pair(64), Peers.BASELINE);
        if (floor != null && floor.hasNumber() && pair != null && pair.hasNumber()) {
            sb.append(String.format(Locale.ROOT, "%s pair 64 B = %.2fx the floor%n", Peers.BASELINE, pair.nanos() / floor.nanos()));
        }
    }

    private static void appendFootprints(StringBuilder sb, Results r) {
        if (r.footprints().isEmpty()) {
            return;
        }
        sb.append("\nmemory: RSS growth over the JVM's start and the allocator's own count of cached free bytes,\n")
                .append("measured after each phase's threads did their work and freed everything, while they are still alive\n");
        List<String> phases = r.footprints().values().stream().filter(f -> f.failure() == null).findFirst()
                .map(f -> f.phases().stream().map(Footprint.Phase::label).toList()).orElse(List.of());
        sb.append(pad("peer", PEER_WIDTH));
        for (String phase : phases) {
            sb.append(pad(phase, 2 * CELL_WIDTH));
        }
        sb.append('\n');
        for (Footprint.Report f : r.footprints().values()) {
            if (f.failure() != null) {
                continue;
            }
            sb.append(pad(f.peer(), PEER_WIDTH));
            for (Footprint.Phase p : f.phases()) {
                sb.append(pad(footprintCell(p), 2 * CELL_WIDTH));
            }
            sb.append('\n');
        }
        for (Footprint.Report f : r.footprints().values()) {
            sb.append("  ").append(f.peer()).append(": ")
                    .append(f.failure() != null ? f.failure() : "cached = " + f.cachedSource()).append('\n');
        }
    }

    private static void appendNotes(StringBuilder sb, Results r, List<Workload> columns) {
        List<String> notes = new ArrayList<>();
        for (Map.Entry<String, String> e : r.skipped().entrySet()) {
            notes.add("skipped " + e.getKey() + ": " + e.getValue());
        }
        for (Workload w : r.workloads()) {
            // Peers without a number for the same reason share one line (an echo leaves out all but Netty's).
            Map<String, List<String>> peersByNote = new LinkedHashMap<>();
            for (Map.Entry<String, Outcome> e : r.cells().getOrDefault(w.key(), Map.of()).entrySet()) {
                if (!e.getValue().hasNumber()) {
                    peersByNote.computeIfAbsent(e.getValue().note(), k -> new ArrayList<>()).add(e.getKey());
                }
            }
            peersByNote.forEach((note, peers) -> notes.add(w.label() + " (" + String.join(", ", peers) + "): " + note));
        }
        if (!notes.isEmpty()) {
            sb.append('\n');
            notes.forEach(n -> sb.append(n).append('\n'));
        }
    }

    /** Every number of the run, one per line, for spreadsheets and for filling in the README. */
    public static String csv(Results r) {
        StringBuilder sb = new StringBuilder("workload,peer,ns_per_op,error_ns,rss_growth_bytes,cached_bytes,note\n");
        for (Workload w : r.workloads()) {
            for (Map.Entry<String, Outcome> e : r.cells().getOrDefault(w.key(), Map.of()).entrySet()) {
                Outcome o = e.getValue();
                sb.append(String.join(",", quote(w.label()), quote(e.getKey()),
                        o.hasNumber() ? String.format(Locale.ROOT, "%.4f", o.nanos()) : "",
                        o.hasNumber() && !Double.isNaN(o.errorNanos()) ? String.format(Locale.ROOT, "%.4f", o.errorNanos()) : "",
                        "", "", quote(o.hasNumber() ? "" : o.note()))).append('\n');
            }
        }
        for (Footprint.Report f : r.footprints().values()) {
            if (f.failure() != null) {
                sb.append(String.join(",", "memory", quote(f.peer()), "", "", "", "", quote(f.failure()))).append('\n');
            }
            for (Footprint.Phase p : f.phases()) {
                sb.append(String.join(",", quote("memory, " + p.label()), quote(f.peer()), "", "",
                        Long.toString(p.rssGrowthBytes()),
                        p.cachedBytes() == Peer.NOT_REPORTED ? "" : Long.toString(p.cachedBytes()), "")).append('\n');
            }
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }

    private static String number(double v) {
        if (v >= 1_000_000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s + "  " : s + " ".repeat(width - s.length());
    }
}
