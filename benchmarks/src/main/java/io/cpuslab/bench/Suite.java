package io.cpuslab.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which workloads a run measures.
 *
 * <pre>{@code
 * List<Workload> quick = Suite.quick();
 * }</pre>
 */
public final class Suite {
    private static final int[] SIZES = {16, 64, 256, 1024, 4096, 32768};
    private static final int[] MORE_THREADS = {2, 4, 16, 64};
    private static final int[] VIRTUAL_THREADS = {1, 2, 4, 16, 64};
    /** Echo depths: request/response, and a pipelining client. */
    private static final int[] ECHO_DEPTHS = {1, 16};

    private Suite() {
    }

    /**
     * The key workloads, for {@code bench --quick}: those whose ratios repeat within 15% from one quick
     * run to the next on 2 cores. Handoff and echo are left to the full run (and {@code --workloads}):
     * two threads handing blocks over, or two event loops, swing by 20-60% between runs there, with
     * where the scheduler puts them.
     */
    public static List<Workload> quick() {
        return List.of(Workload.floor(), Workload.pair(64), Workload.randomReplacement(), Workload.bulk());
    }

    /** Everything, for {@code bench --full}. */
    public static List<Workload> full() {
        List<Workload> all = new ArrayList<>();
        all.add(Workload.floor());
        for (int size : SIZES) {
            all.add(Workload.pair(size));
        }
        all.add(Workload.pairSized(64));
        all.add(Workload.batch("LIFO"));
        all.add(Workload.batch("RANDOM"));
        all.add(Workload.bulk());
        all.add(Workload.randomReplacement());
        all.add(Workload.handoff(1));
        all.add(Workload.handoff(2));
        for (int threads : MORE_THREADS) {
            all.add(Workload.pairThreads(threads, false));
        }
        for (int threads : VIRTUAL_THREADS) {
            all.add(Workload.pairThreads(threads, true));
        }
        all.addAll(echoes());
        return List.copyOf(all);
    }

    private static List<Workload> echoes() {
        return Arrays.stream(ECHO_DEPTHS).mapToObj(Workload::echo).toList();
    }

    /** Every benchmark method and every kind of thread layout once: what the test runs. */
    public static List<Workload> smoke() {
        return List.of(Workload.floor(), Workload.pair(64), Workload.pairSized(64), Workload.batch("RANDOM"), Workload.bulk(),
                Workload.randomReplacement(), Workload.handoff(2), Workload.pairThreads(4, true), Workload.echo(16));
    }
}
