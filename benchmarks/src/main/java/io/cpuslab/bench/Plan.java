package io.cpuslab.bench;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * What one {@code bench} run does: its name (the output files' name), how long it measures, which
 * workloads (the floor first), whether the memory workload runs, and for which peers. The command line
 * picks the mode and, optionally, a subset.
 *
 * <pre>{@code
 * Plan p = Plan.parse(List.of("--quick", "--workloads", "pair-64,bulk-1000", "--peers", "cpuslab-rseq,tcmalloc"));
 * }</pre>
 *
 * @param name      {@code quick} or {@code full}: what the output files are called
 * @param settings  forks, iterations and the memory workload's threads
 * @param workloads the JMH workloads in run order
 * @param memory    whether the memory workload runs (for {@link #peers})
 * @param peers     the peers to run, in {@link Peers#all()}'s order (the ratio baseline first)
 */
public record Plan(String name, Settings settings, List<Workload> workloads, boolean memory, List<Peers.Spec> peers) {
    /** The memory workload's key: it is no JMH workload ({@link Footprint}). */
    public static final String MEMORY = "memory";
    private static final String QUICK = "--quick";
    private static final String FULL = "--full";
    private static final String WORKLOADS = "--workloads";
    private static final String PEERS = "--peers";

    /** A suite, the memory workload included, for every peer. */
    public static Plan whole(String name, Settings settings, List<Workload> suite) {
        return new Plan(name, settings, suite, true, Peers.all());
    }

    /**
     * {@code [--quick | --full] [--workloads KEY,...] [--peers NAME,...]}: the mode (default quick)
     * chooses the settings and the workloads; the flags narrow them down.
     *
     * @throws IllegalArgumentException for an unknown option or name (naming the known ones), or a flag without its list
     */
    public static Plan parse(List<String> options) {
        String mode = null;
        List<String> workloads = null;
        List<String> peers = null;
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i);
            switch (option) {
                case QUICK, FULL -> {
                    if (mode != null) {
                        throw new IllegalArgumentException("one of " + QUICK + " and " + FULL + ", once");
                    }
                    mode = option;
                }
                case WORKLOADS -> {
                    requireOnce(option, workloads);
                    workloads = names(option, i + 1 < options.size() ? options.get(++i) : "");
                }
                case PEERS -> {
                    requireOnce(option, peers);
                    peers = names(option, i + 1 < options.size() ? options.get(++i) : "");
                }
                default -> throw new IllegalArgumentException("unknown option " + option);
            }
        }
        Plan plan = FULL.equals(mode) ? whole("full", Settings.FULL, Suite.full()) : whole("quick", Settings.QUICK, Suite.quick());
        if (workloads != null) {
            plan = plan.withWorkloads(workloads);
        }
        return peers == null ? plan : plan.withPeers(peers);
    }

    /**
     * Only the named workloads: any of the full suite's keys, whatever the mode, and {@link #MEMORY}. The
     * floor runs with any workload that measures peers, since their ratios to it need it.
     *
     * @throws IllegalArgumentException for a key no workload has, naming every known key
     */
    public Plan withWorkloads(List<String> keys) {
        List<String> known = workloadKeys();
        for (String key : keys) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown workload '" + key + "'; known: " + known);
            }
        }
        boolean measuresPeers = Suite.full().stream().anyMatch(w -> w.perPeer() && keys.contains(w.key()));
        List<Workload> chosen = Suite.full().stream()
                .filter(w -> keys.contains(w.key()) || (measuresPeers && !w.perPeer()))
                .toList();
        return new Plan(name, settings, chosen, keys.contains(MEMORY), peers);
    }

    /**
     * Only the named peers, in {@link Peers#all()}'s order.
     *
     * @throws IllegalArgumentException for a name no peer has, naming every known peer
     */
    public Plan withPeers(List<String> names) {
        names.forEach(Peers::spec);
        return new Plan(name, settings, workloads, memory, Peers.all().stream().filter(s -> names.contains(s.name())).toList());
    }

    /** Every key {@code --workloads} knows: the full suite's, then {@link #MEMORY}. */
    public static List<String> workloadKeys() {
        return Stream.concat(Suite.full().stream().map(Workload::key), Stream.of(MEMORY)).toList();
    }

    private static void requireOnce(String option, List<String> earlier) {
        if (earlier != null) {
            throw new IllegalArgumentException(option + " given twice");
        }
    }

    private static List<String> names(String option, String list) {
        List<String> names = Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        if (names.isEmpty() || list.startsWith("--")) {
            throw new IllegalArgumentException(option + " needs a comma-separated list of names");
        }
        return names;
    }
}
