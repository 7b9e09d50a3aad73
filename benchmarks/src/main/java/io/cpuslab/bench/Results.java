package io.cpuslab.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything one {@code bench} run found: per workload and peer an {@link Outcome}, per peer a
 * {@link Footprint.Report}, and the peers skipped with their reasons.
 *
 * <pre>{@code
 * Outcome o = results.outcome(Workload.pair(64), "glibc");
 * }</pre>
 *
 * @param machine    the machine line (CPU, cores, kernel, JDK)
 * @param settings   how long it measured
 * @param workloads  the JMH workloads, in run order (the floor first)
 * @param peers      the peers that ran, in order, the ratio baseline first
 * @param skipped    peers that could not run here, with the reason
 * @param cells      workload key, then peer name (the floor under {@link #FLOOR_PEER}), to outcome
 * @param footprints peer name to its footprint report (failed, or not applicable, with the reason)
 */
public record Results(String machine, Settings settings, List<Workload> workloads, List<String> peers,
                      Map<String, String> skipped, Map<String, Map<String, Outcome>> cells,
                      Map<String, Footprint.Report> footprints) {
    /** The peer name the floor's outcome is filed under: it involves no allocator. */
    public static final String FLOOR_PEER = "-";

    public Outcome outcome(Workload workload, String peer) {
        return cells.getOrDefault(workload.key(), Map.of()).get(peer);
    }

    /** The floor's outcome, or null when the run had no floor. */
    public Outcome floor() {
        return cells.getOrDefault(Workload.floor().key(), Map.of()).get(FLOOR_PEER);
    }

    static Map<String, Map<String, Outcome>> emptyCells() {
        return new LinkedHashMap<>();
    }
}
