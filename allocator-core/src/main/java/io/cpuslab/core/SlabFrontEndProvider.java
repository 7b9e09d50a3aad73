package io.cpuslab.core;

import io.cpuslab.CpuSlab;

/**
 * Found through {@link java.util.ServiceLoader}: one per front-end module. AUTO takes the first
 * available provider in {@link CpuSlab.FrontEnd} order of preference (rseq before locked).
 *
 * <pre>{@code
 * // META-INF/services/io.cpuslab.core.SlabFrontEndProvider
 * io.cpuslab.fallback.LockedFrontEndProvider
 * }</pre>
 */
public interface SlabFrontEndProvider {
    /** {@link CpuSlab.FrontEnd#RSEQ} or {@link CpuSlab.FrontEnd#LOCKED}. */
    CpuSlab.FrontEnd type();

    /** Null when this front end can serve {@code config} here, else the reason it cannot, in a few words. */
    String unavailableReason(AllocatorConfig config);

    /** How many slab regions the front end needs (CPUs, or shards). */
    int slabCount(AllocatorConfig config);

    /**
     * Creates the front end over {@code layout}.
     *
     * @param reason why it was chosen, for {@link io.cpuslab.FrontEndInfo#reason()}
     */
    SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason);
}
