package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/**
 * The back end {@link CpuSlab} finds as a service: it turns a builder's settings into an allocator, so
 * that the API package depends on this one only through the {@link CpuSlab.Backend} interface.
 *
 * <pre>{@code
 * OffHeapAllocator a = new CpuSlabBackend().create(CpuSlab.builder().settings());   // what build() does
 * }</pre>
 */
public final class CpuSlabBackend implements CpuSlab.Backend {
    /** For {@link java.util.ServiceLoader}. */
    public CpuSlabBackend() {
    }

    @Override
    public OffHeapAllocator create(CpuSlab.Settings settings) {
        return CpuSlabAllocator.create(AllocatorConfig.of(settings));
    }

    @Override
    public OffHeapAllocator createGlobal(CpuSlab.Settings settings) {
        return CpuSlabAllocator.createGlobal(AllocatorConfig.of(settings));
    }
}
