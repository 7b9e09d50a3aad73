package io.cpuslab.bench;

import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * One column of the results: a JMH benchmark method with fixed parameters and a thread layout, run
 * once per peer (or once, for the floor). Its score is nanoseconds per operation of the whole run:
 * {@code 1 / throughput}, summed over all threads, so with several threads it is the system's cost per
 * operation, not one thread's latency.
 *
 * <pre>{@code
 * Workload w = Workload.pair(64);     // "pair 64 B": malloc+free of 64 bytes on one thread
 * }</pre>
 *
 * @param key       short name (CSV, JMH include)
 * @param label     column header
 * @param include   JMH include pattern of the benchmark method
 * @param params    JMH parameters other than {@code peer}
 * @param threads   benchmark threads in all (for a producer/consumer benchmark, two per pair)
 * @param producerConsumer whether it is the {@code @Group} producer/consumer benchmark, one producer and one
 *                  consumer per group
 * @param virtual   whether JMH runs its threads as virtual threads ({@code -Djmh.executor=VIRTUAL})
 * @param secondary the secondary result scored (a {@code @Group} member), or null for the primary
 * @param perPeer   false for the floor, which involves no peer
 * @param excluded  why a peer does not take part, or null when it does
 * @param ratioTo   the peer every other peer's ratio is taken against: {@link Peers#BASELINE}, or cpuslab's
 *                  own entry where the baseline cannot take part
 */
public record Workload(String key, String label, String include, Map<String, String> params, int threads, boolean producerConsumer,
                       boolean virtual, String secondary, boolean perPeer, Function<Peers.Spec, String> excluded,
                       String ratioTo) {

    private static final Function<Peers.Spec, String> EVERY_PEER = spec -> null;
    private static final String PAIR_SIZE = "64";

    public static Workload floor() {
        return new Workload("floor", "2 empty downcalls", method(PairBenchmark.class, "emptyDowncallPair"), Map.of(),
                1, false, false, null, false, EVERY_PEER, Peers.BASELINE);
    }

    /** Same-thread malloc+free of {@code size} bytes. */
    public static Workload pair(int size) {
        return new Workload("pair-" + size, "pair " + size + " B", method(PairBenchmark.class, "pair"),
                Map.of("size", Integer.toString(size)), 1, false, false, null, true, EVERY_PEER, Peers.BASELINE);
    }

    /** Same-thread malloc and sized free of {@code size} bytes, for the peers that have a sized free. */
    public static Workload pairSized(int size) {
        return new Workload("pair-" + size + "-sized", "pair " + size + " B, freeSized", method(PairBenchmark.class, "pairSized"),
                Map.of("size", Integer.toString(size)), 1, false, false, null, true,
                spec -> spec.freesSized() ? null : "has no free that takes the block's size", Peers.BASELINE);
    }

    /** Same-thread 64-byte pairs on {@code threads} threads at once, platform or virtual. */
    public static Workload pairThreads(int threads, boolean virtual) {
        String kind = virtual ? "virtual" : "platform";
        return new Workload("pair-64-" + kind + "-" + threads, "pair 64 B, " + threads + " " + kind,
                method(PairBenchmark.class, "pair"), Map.of("size", PAIR_SIZE), threads, false, virtual, null, true, EVERY_PEER,
                Peers.BASELINE);
    }

    /** 1,000 live, then all freed in {@code order} (LIFO or RANDOM). */
    public static Workload batch(String order) {
        return new Workload("batch-" + order.toLowerCase(Locale.ROOT), "batch 1000 " + order,
                method(BatchBenchmark.class, "batch"), Map.of("order", order), 1, false, false, null, true, EVERY_PEER,
                Peers.BASELINE);
    }

    /**
     * The LIFO batch with bulk calls where the peer has them (cpuslab: one {@code mallocBulk} and one
     * {@code freeBulk} per 1,000 blocks), individual calls otherwise.
     */
    public static Workload bulk() {
        return new Workload("bulk-" + BatchBenchmark.LIVE, "bulk " + BatchBenchmark.LIVE + " (bulk calls)",
                method(BulkBenchmark.class, "bulk"), Map.of(), 1, false, false, null, true, EVERY_PEER, Peers.BASELINE);
    }

    /** Netty's pattern: a random one of 8,192 live blocks replaced per operation. */
    public static Workload randomReplacement() {
        return new Workload("random-replacement", "random replace 8192", method(RandomReplacementBenchmark.class, "replace"),
                Map.of(), 1, false, false, null, true, EVERY_PEER, Peers.BASELINE);
    }

    /** One thread allocates, another frees; {@code pairs} such pairs on one allocator. */
    public static Workload handoff(int pairs) {
        return new Workload("handoff-" + pairs, "handoff, " + pairs + (pairs == 1 ? " pair" : " pairs"),
                method(ProducerConsumerBenchmark.class, "handoff"), Map.of(), 2 * pairs, true, false, "consume", true,
                spec -> spec.freesAnyThread() ? null : "cannot free a block on another thread", Peers.BASELINE);
    }

    /**
     * A Netty echo over loopback TCP with {@code depth} messages in flight; one operation is one message
     * echoed. Only Netty allocators can be set on Netty's channels, so ratios are to cpuslab's Netty adapter.
     * It runs on the transport a Netty server here would use ({@link EchoTransport#preferred()}: epoll where
     * Netty's native library loads, NIO otherwise), and the label names it: {@code epoll echo, 16 in flight}.
     */
    public static Workload echo(int depth) {
        EchoTransport transport = EchoTransport.preferred();
        return new Workload("echo-" + depth, transport.label + " echo, " + depth + " in flight", method(EchoBenchmark.class, "echo"),
                Map.of("depth", Integer.toString(depth), "transport", transport.name()), 1, false, false, null, true,
                spec -> spec.kind() == Peers.Kind.NETTY ? null : "only a Netty ByteBufAllocator can serve Netty's channels",
                Peers.CPUSLAB_NETTY);
    }

    private static String method(Class<?> benchmark, String name) {
        return "^" + Pattern.quote(benchmark.getName() + "." + name) + "$";
    }
}
