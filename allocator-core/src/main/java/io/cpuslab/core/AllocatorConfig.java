package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.util.function.Consumer;

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
 * @param name             the allocator's name in JMX and in its JFR events; null for a number (1, 2, ...),
 *                         or {@code global} for {@link CpuSlab#global()}
 * @param jmx              whether the allocator registers its MXBean in the platform MBean server
 * @param hugePages        whether the page heap packs spans into transparent huge pages where the kernel has them
 * @param osMemory where memory comes from; null for {@link OsMemory#forThisPlatform()} (tests inject faults here)
 * @param maintenanceClock how the maintenance thread waits and reads the time; null for
 *                         {@link MaintenanceClock#SYSTEM} (tests run each tick themselves)
 */
public record AllocatorConfig(CpuSlab.FrontEnd frontEnd, CpuSlab.RseqMode rseqMode, CpuSlab.Index index,
                              long perCpuCacheBytes, boolean checked, long memoryLimit, long softMemoryLimit,
                              long releaseRate, long idleDrainMillis, long maintenancePeriodMillis,
                              long guardSampleRate, String name, boolean jmx, CpuSlab.HugePages hugePages,
                              OsMemory osMemory, MaintenanceClock maintenanceClock) {

    /** How often the maintenance thread wakes up unless configured otherwise. */
    public static final long DEFAULT_MAINTENANCE_PERIOD_MILLIS = 1000;

    /**
     * The defaults (TCMalloc's per-CPU budget, no limits, unchecked, no background maintenance, numbered,
     * MXBean registered, hugepages where the kernel has them) for {@code frontEnd}.
     */
    public static AllocatorConfig defaults(CpuSlab.FrontEnd frontEnd) {
        Settings s = new Settings();
        s.frontEnd = frontEnd;
        return s.build();
    }

    /** Whether anything needs the maintenance thread. */
    boolean maintained() {
        return releaseRate > 0 || idleDrainMillis > 0 || softMemoryLimit != Long.MAX_VALUE;
    }

    public AllocatorConfig withRseqMode(CpuSlab.RseqMode value) {
        return with(s -> s.rseqMode = value);
    }

    public AllocatorConfig withIndex(CpuSlab.Index value) {
        return with(s -> s.index = value);
    }

    public AllocatorConfig withOsMemory(OsMemory value) {
        return with(s -> s.osMemory = value);
    }

    public AllocatorConfig withChecked(boolean value) {
        return with(s -> s.checked = value);
    }

    public AllocatorConfig withMemoryLimit(long value) {
        return with(s -> s.memoryLimit = value);
    }

    public AllocatorConfig withSoftMemoryLimit(long value) {
        return with(s -> s.softMemoryLimit = value);
    }

    /** Background maintenance: release rate, idle-drain time and wake-up period together. */
    public AllocatorConfig withMaintenance(long releaseBytesPerSecond, long idleMillis, long periodMillis) {
        return with(s -> {
            s.releaseRate = releaseBytesPerSecond;
            s.idleDrainMillis = idleMillis;
            s.maintenancePeriodMillis = periodMillis;
        });
    }

    public AllocatorConfig withGuardSampleRate(long value) {
        return with(s -> s.guardSampleRate = value);
    }

    public AllocatorConfig withName(String value) {
        return with(s -> s.name = value);
    }

    public AllocatorConfig withJmx(boolean value) {
        return with(s -> s.jmx = value);
    }

    public AllocatorConfig withHugePages(CpuSlab.HugePages value) {
        return with(s -> s.hugePages = value);
    }

    /** Package-private: the clock is for tests in this package, never a setting of the library's users. */
    AllocatorConfig withMaintenanceClock(MaintenanceClock value) {
        return with(s -> s.maintenanceClock = value);
    }

    /** This configuration with {@code change} applied: every with-method goes through here. */
    private AllocatorConfig with(Consumer<Settings> change) {
        Settings s = new Settings();
        s.frontEnd = frontEnd;
        s.rseqMode = rseqMode;
        s.index = index;
        s.perCpuCacheBytes = perCpuCacheBytes;
        s.checked = checked;
        s.memoryLimit = memoryLimit;
        s.softMemoryLimit = softMemoryLimit;
        s.releaseRate = releaseRate;
        s.idleDrainMillis = idleDrainMillis;
        s.maintenancePeriodMillis = maintenancePeriodMillis;
        s.guardSampleRate = guardSampleRate;
        s.name = name;
        s.jmx = jmx;
        s.hugePages = hugePages;
        s.osMemory = osMemory;
        s.maintenanceClock = maintenanceClock;
        change.accept(s);
        return s.build();
    }

    /** The settings while they are being changed, each with its default: the one place defaults are written. */
    private static final class Settings {
        CpuSlab.FrontEnd frontEnd;
        CpuSlab.RseqMode rseqMode = CpuSlab.RseqMode.COMPLIANT;
        CpuSlab.Index index = CpuSlab.Index.CPU;
        long perCpuCacheBytes = CpuSlab.DEFAULT_PER_CPU_CACHE_BYTES;
        boolean checked;
        long memoryLimit = Long.MAX_VALUE;
        long softMemoryLimit = Long.MAX_VALUE;
        long releaseRate;
        long idleDrainMillis;
        long maintenancePeriodMillis = DEFAULT_MAINTENANCE_PERIOD_MILLIS;
        long guardSampleRate;
        String name;
        boolean jmx = true;
        CpuSlab.HugePages hugePages = CpuSlab.HugePages.AUTO;
        OsMemory osMemory;
        MaintenanceClock maintenanceClock;

        AllocatorConfig build() {
            return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                    releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, name, jmx, hugePages, osMemory,
                    maintenanceClock);
        }
    }
}
