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
     * @param reason  why it was chosen, for {@link io.cpuslab.FrontEndInfo#reason()}
     * @param classes the page map's native mirror for the one-call free, or null when the allocator does
     *                not use the native fast path (no {@link #nativeFastPath()}, or checked mode)
     */
    SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason, NativePageMap classes);

    /**
     * The native entry points of the one-call fast path, when this front end has one and it can run here
     * (see {@link NativeFastPath}); null otherwise. Its front ends then give each allocator a descriptor
     * ({@link SlabFrontEnd#nativeDescriptor()}).
     */
    default NativeFastPath.Entries nativeFastPath() {
        return null;
    }
}
