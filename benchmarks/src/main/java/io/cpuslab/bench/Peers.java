package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.netty.CpuSlabByteBufAllocator;
import io.cpuslab.rseq.OverlayProbe;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.Supplier;

/**
 * Every peer the benchmarks know, by name; adding one is one line in {@link #ALL}. A peer that cannot
 * run here is skipped with the reason {@link #unavailable} gives, never replaced by something else.
 *
 * <pre>{@code
 * for (Peers.Spec spec : Peers.all()) {
 *     String why = Peers.unavailable(spec);
 *     System.out.println(spec.name() + (why == null ? ": runs" : ": skipped, " + why));
 * }
 * }</pre>
 */
public final class Peers {
    /** What kind of allocator a peer is; decides which workloads it takes part in. */
    public enum Kind { CPUSLAB, NATIVE, NETTY, JDK }

    /**
     * One peer.
     *
     * @param name           the name in tables, charts and the JMH {@code peer} parameter
     * @param kind           its family
     * @param opener         opens it, or throws {@link PeerUnavailableException}
     * @param environment    what its JVMs must be started with (it then runs only in child JVMs), or null
     * @param freesAnyThread whether a block may be freed by a thread other than the one that allocated it
     * @param freesSized     whether it has a free that takes the block's size (cpuslab's {@code freeSized},
     *                       a native library's sized free); known without opening it
     */
    public record Spec(String name, Kind kind, Supplier<Peer> opener, ChildEnvironment environment, boolean freesAnyThread,
                       boolean freesSized) {
        /** cpuslab frees sized with {@code freeSized}; a Netty or JDK release takes no size. */
        static Spec of(String name, Kind kind, Supplier<Peer> opener) {
            return new Spec(name, kind, opener, null, true, kind == Kind.CPUSLAB);
        }

        static Spec nativeMalloc(String name, NativeMallocPeer.Library library) {
            return new Spec(name, Kind.NATIVE, () -> NativeMallocPeer.open(library),
                    library.needsPreload() ? new ChildEnvironment("LD_PRELOAD", library.path().toString(), library::missing) : null,
                    true, library.hasSizedFree());
        }
    }

    /** The peer every ratio is taken against, unless a workload names another ({@link Workload#ratioTo}). */
    public static final String BASELINE = "cpuslab-rseq";
    /** cpuslab's Netty adapter: the ratio baseline of workloads only Netty allocators take part in. */
    public static final String CPUSLAB_NETTY = "cpuslab-netty";

    /** Overlay mode needs cpuslab's own rseq registration: JVMs started with glibc's turned off. */
    private static final ChildEnvironment OWN_RSEQ_REGISTRATION = new ChildEnvironment("GLIBC_TUNABLES",
            "glibc.pthread.rseq=0", Peers::overlayUnavailable);

    private static final List<Spec> ALL = List.of(
            Spec.of("cpuslab-rseq", Kind.CPUSLAB, () -> cpuslab(CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ))),
            new Spec("cpuslab-overlay", Kind.CPUSLAB,
                    () -> cpuslab(CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).rseqMode(CpuSlab.RseqMode.OVERLAY)),
                    OWN_RSEQ_REGISTRATION, true, true),
            Spec.of("cpuslab-locked", Kind.CPUSLAB, () -> cpuslab(CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.LOCKED))),
            Spec.nativeMalloc("glibc", NativeMallocPeer.Library.GLIBC),
            Spec.nativeMalloc("jemalloc", NativeMallocPeer.Library.JEMALLOC),
            Spec.nativeMalloc("tcmalloc", NativeMallocPeer.Library.TCMALLOC),
            Spec.nativeMalloc("mimalloc", NativeMallocPeer.Library.MIMALLOC),
            // Both pooled allocators with the thread caches Netty gives its event-loop threads; by default
            // other threads (JMH's, the footprint's) would get none.
            Spec.of("netty-pooled", Kind.NETTY, () -> new NettyPeer(pooledWithThreadCaches())),
            Spec.of("netty-adaptive", Kind.NETTY, () -> new NettyPeer(new AdaptiveByteBufAllocator(true, true))),
            Spec.of("netty-unpooled", Kind.NETTY, () -> new NettyPeer(new UnpooledByteBufAllocator(true))),
            Spec.of(CPUSLAB_NETTY, Kind.NETTY, Peers::cpuslabNetty),
            new Spec("arena-confined", Kind.JDK, () -> new ArenaPeer(Arena::ofConfined), null, false, false),
            Spec.of("arena-shared", Kind.JDK, () -> new ArenaPeer(Arena::ofShared)),
            Spec.of("direct-bytebuffer", Kind.JDK, DirectBufferPeer::new));

    private Peers() {
    }

    public static List<Spec> all() {
        return ALL;
    }

    public static Spec spec(String name) {
        return ALL.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown peer '" + name + "'; known: "
                        + ALL.stream().map(Spec::name).toList()));
    }

    /** Opens the named peer in this JVM. */
    public static Peer open(String name) {
        return spec(name).opener().get();
    }

    /**
     * Why the peer cannot run here, or null when it can. A peer that needs a child environment is
     * checked by what this JVM can see (the library file, the rseq front end and overlay probe): only
     * the JVM started for it can open it.
     */
    public static String unavailable(Spec spec) {
        if (spec.environment() != null) {
            return spec.environment().unavailable().get();
        }
        try (Peer ignored = spec.opener().get()) {
            return null;
        } catch (PeerUnavailableException e) {
            return e.getMessage();
        }
    }

    private static PooledByteBufAllocator pooledWithThreadCaches() {
        return new PooledByteBufAllocator(true, PooledByteBufAllocator.defaultNumHeapArena(),
                PooledByteBufAllocator.defaultNumDirectArena(), PooledByteBufAllocator.defaultPageSize(),
                PooledByteBufAllocator.defaultMaxOrder(), PooledByteBufAllocator.defaultSmallCacheSize(),
                PooledByteBufAllocator.defaultNormalCacheSize(), true);
    }

    private static String overlayUnavailable() {
        try {
            CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build().close();
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
        OverlayProbe.Result probe = OverlayProbe.result();
        return probe.safe() ? null : "overlay refused: " + probe.refusal();
    }

    /** cpuslab's Netty adapter over the rseq front end (AUTO: locked where rseq cannot run, named in info). */
    private static Peer cpuslabNetty() {
        OffHeapAllocator memory = CpuSlab.builder().build();
        return new NettyPeer(new CpuSlabByteBufAllocator(memory), memory);
    }

    private static Peer cpuslab(CpuSlab.Builder builder) {
        OffHeapAllocator allocator;
        try {
            allocator = builder.build();
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new PeerUnavailableException(e.getMessage());
        }
        return new CpuSlabPeer(allocator);
    }
}
