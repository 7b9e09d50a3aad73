package io.cpuslab.core;

import io.cpuslab.CpuSlab;

/**
 * Everything an allocator is built from; {@link CpuSlab.Builder} fills it in from its settings and the
 * system properties.
 *
 * @param osMemory where memory comes from; null for {@link OsMemory#forThisPlatform()} (tests inject faults here)
 */
public record AllocatorConfig(CpuSlab.FrontEnd frontEnd, CpuSlab.RseqMode rseqMode, CpuSlab.Index index,
                              long perCpuCacheBytes, boolean checked, long memoryLimit, long releaseRate,
                              OsMemory osMemory) {

    /** The defaults (TCMalloc's per-CPU budget, no limit, unchecked, no background release) for {@code frontEnd}. */
    public static AllocatorConfig defaults(CpuSlab.FrontEnd frontEnd) {
        return new AllocatorConfig(frontEnd, CpuSlab.RseqMode.COMPLIANT, CpuSlab.Index.CPU,
                CpuSlab.DEFAULT_PER_CPU_CACHE_BYTES, false, Long.MAX_VALUE, 0, null);
    }

    public AllocatorConfig withRseqMode(CpuSlab.RseqMode value) {
        return new AllocatorConfig(frontEnd, value, index, perCpuCacheBytes, checked, memoryLimit, releaseRate, osMemory);
    }

    public AllocatorConfig withIndex(CpuSlab.Index value) {
        return new AllocatorConfig(frontEnd, rseqMode, value, perCpuCacheBytes, checked, memoryLimit, releaseRate, osMemory);
    }

    public AllocatorConfig withOsMemory(OsMemory value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, releaseRate, value);
    }

    public AllocatorConfig withChecked(boolean value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, value, memoryLimit, releaseRate, osMemory);
    }

    public AllocatorConfig withMemoryLimit(long value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, value, releaseRate, osMemory);
    }
}
