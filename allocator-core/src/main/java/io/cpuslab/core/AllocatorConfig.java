package io.cpuslab.core;

import io.cpuslab.CpuSlab;

/**
 * Everything an allocator is built from; {@link CpuSlab.Builder} fills it in from its settings and the
 * system properties.
 *
 * <pre>{@code
 * AllocatorConfig config = AllocatorConfig.defaults(CpuSlab.FrontEnd.LOCKED).withChecked(true);
 * OffHeapAllocator alloc = CpuSlabAllocator.create(config);
 * }</pre>
 *
 * @param memoryLimit      hard limit on backed bytes (in use + free, not released); Long.MAX_VALUE for none
 * @param softMemoryLimit  backed bytes above which free pages are released at once; Long.MAX_VALUE for none
 * @param releaseRate      bytes per second the maintenance thread returns to the OS; 0 for none
 * @param idleDrainMillis  a per-CPU cache or transfer cache without a miss for this long is drained; 0 for never
 * @param maintenancePeriodMillis how often the maintenance thread wakes up
 * @param guardSampleRate  one in this many small {@code malloc}s ends right at a {@code PROT_NONE}
 *                         page (any mode, where the OS can protect pages); 0 for none
 * @param hugePages        whether the page heap packs spans into transparent huge pages where the kernel has them
 * @param osMemory where memory comes from; null for {@link OsMemory#forThisPlatform()} (tests inject faults here)
 */
public record AllocatorConfig(CpuSlab.FrontEnd frontEnd, CpuSlab.RseqMode rseqMode, CpuSlab.Index index,
                              long perCpuCacheBytes, boolean checked, long memoryLimit, long softMemoryLimit,
                              long releaseRate, long idleDrainMillis, long maintenancePeriodMillis,
                              long guardSampleRate, CpuSlab.HugePages hugePages, OsMemory osMemory) {

    /** How often the maintenance thread wakes up unless configured otherwise. */
    public static final long DEFAULT_MAINTENANCE_PERIOD_MILLIS = 1000;

    /**
     * The defaults (TCMalloc's per-CPU budget, no limits, unchecked, no background maintenance, hugepages
     * where the kernel has them) for {@code frontEnd}.
     */
    public static AllocatorConfig defaults(CpuSlab.FrontEnd frontEnd) {
        return new AllocatorConfig(frontEnd, CpuSlab.RseqMode.COMPLIANT, CpuSlab.Index.CPU,
                CpuSlab.DEFAULT_PER_CPU_CACHE_BYTES, false, Long.MAX_VALUE, Long.MAX_VALUE, 0, 0,
                DEFAULT_MAINTENANCE_PERIOD_MILLIS, 0, CpuSlab.HugePages.AUTO, null);
    }

    /** Whether anything needs the maintenance thread. */
    boolean maintained() {
        return releaseRate > 0 || idleDrainMillis > 0 || softMemoryLimit != Long.MAX_VALUE;
    }

    public AllocatorConfig withRseqMode(CpuSlab.RseqMode value) {
        return new AllocatorConfig(frontEnd, value, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, osMemory);
    }

    public AllocatorConfig withIndex(CpuSlab.Index value) {
        return new AllocatorConfig(frontEnd, rseqMode, value, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, osMemory);
    }

    public AllocatorConfig withOsMemory(OsMemory value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, value);
    }

    public AllocatorConfig withChecked(boolean value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, value, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, osMemory);
    }

    public AllocatorConfig withMemoryLimit(long value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, value, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, osMemory);
    }

    public AllocatorConfig withSoftMemoryLimit(long value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, value,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, hugePages, osMemory);
    }

    /** Background maintenance: release rate, idle-drain time and wake-up period together. */
    public AllocatorConfig withMaintenance(long releaseBytesPerSecond, long idleMillis, long periodMillis) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseBytesPerSecond, idleMillis, periodMillis, guardSampleRate, hugePages, osMemory);
    }

    public AllocatorConfig withGuardSampleRate(long value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, value, hugePages, osMemory);
    }

    public AllocatorConfig withHugePages(CpuSlab.HugePages value) {
        return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, value, osMemory);
    }
}
