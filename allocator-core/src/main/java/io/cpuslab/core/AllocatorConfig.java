package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.util.function.Consumer;

/**
 * Everything an allocator is built from: the user's {@link CpuSlab.Settings} ({@link #of}), and where its
 * memory and its maintenance thread's time come from, which tests replace.
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
 * @param maintenanceClock how the maintenance thread waits and reads the time: {@link MaintenanceClock#SYSTEM}
 *                         unless a test runs each tick itself
 */
public record AllocatorConfig(CpuSlab.FrontEnd frontEnd, CpuSlab.RseqMode rseqMode, CpuSlab.Index index,
                              long perCpuCacheBytes, boolean checked, long memoryLimit, long softMemoryLimit,
                              long releaseRate, long idleDrainMillis, long maintenancePeriodMillis,
                              long guardSampleRate, String name, boolean jmx, CpuSlab.HugePages hugePages,
                              OsMemory osMemory, MaintenanceClock maintenanceClock) {

    /** The allocator {@code settings} describe, with the platform's memory (made per allocator) and the system clock. */
    public static AllocatorConfig of(CpuSlab.Settings settings) {
        return new Draft(settings).build();
    }

    /** {@link CpuSlab.Settings#DEFAULTS}, without the system properties, for {@code frontEnd}. */
    public static AllocatorConfig defaults(CpuSlab.FrontEnd frontEnd) {
        Draft d = new Draft(CpuSlab.Settings.DEFAULTS);
        d.frontEnd = frontEnd;
        return d.build();
    }

    /** Whether anything needs the maintenance thread. */
    boolean maintained() {
        return releaseRate > 0 || idleDrainMillis > 0 || softMemoryLimit != Long.MAX_VALUE;
    }

    public AllocatorConfig withRseqMode(CpuSlab.RseqMode value) {
        return with(d -> d.rseqMode = value);
    }

    public AllocatorConfig withIndex(CpuSlab.Index value) {
        return with(d -> d.index = value);
    }

    public AllocatorConfig withOsMemory(OsMemory value) {
        return with(d -> d.osMemory = value);
    }

    public AllocatorConfig withChecked(boolean value) {
        return with(d -> d.checked = value);
    }

    public AllocatorConfig withMemoryLimit(long value) {
        return with(d -> d.memoryLimit = value);
    }

    public AllocatorConfig withSoftMemoryLimit(long value) {
        return with(d -> d.softMemoryLimit = value);
    }

    /** Background maintenance: release rate, idle-drain time and wake-up period together. */
    public AllocatorConfig withMaintenance(long releaseBytesPerSecond, long idleMillis, long periodMillis) {
        return with(d -> {
            d.releaseRate = releaseBytesPerSecond;
            d.idleDrainMillis = idleMillis;
            d.maintenancePeriodMillis = periodMillis;
        });
    }

    public AllocatorConfig withGuardSampleRate(long value) {
        return with(d -> d.guardSampleRate = value);
    }

    public AllocatorConfig withName(String value) {
        return with(d -> d.name = value);
    }

    public AllocatorConfig withJmx(boolean value) {
        return with(d -> d.jmx = value);
    }

    public AllocatorConfig withHugePages(CpuSlab.HugePages value) {
        return with(d -> d.hugePages = value);
    }

    /** Package-private: the clock is for tests in this package, never a setting of the library's users. */
    AllocatorConfig withMaintenanceClock(MaintenanceClock value) {
        return with(d -> d.maintenanceClock = value);
    }

    /** This configuration with {@code change} applied: every with-method goes through here. */
    private AllocatorConfig with(Consumer<Draft> change) {
        Draft d = new Draft(new CpuSlab.Settings(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit,
                softMemoryLimit, releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, name, jmx, hugePages));
        d.osMemory = osMemory;
        d.maintenanceClock = maintenanceClock;
        change.accept(d);
        return d.build();
    }

    /** A configuration while it is being changed; it starts from settings, whose defaults are written once. */
    private static final class Draft {
        CpuSlab.FrontEnd frontEnd;
        CpuSlab.RseqMode rseqMode;
        CpuSlab.Index index;
        long perCpuCacheBytes;
        boolean checked;
        long memoryLimit;
        long softMemoryLimit;
        long releaseRate;
        long idleDrainMillis;
        long maintenancePeriodMillis;
        long guardSampleRate;
        String name;
        boolean jmx;
        CpuSlab.HugePages hugePages;
        OsMemory osMemory;
        MaintenanceClock maintenanceClock = MaintenanceClock.SYSTEM;

        Draft(CpuSlab.Settings s) {
            frontEnd = s.frontEnd();
            rseqMode = s.rseqMode();
            index = s.index();
            perCpuCacheBytes = s.perCpuCacheBytes();
            checked = s.checked();
            memoryLimit = s.memoryLimit();
            softMemoryLimit = s.softMemoryLimit();
            releaseRate = s.releaseRate();
            idleDrainMillis = s.idleDrainMillis();
            maintenancePeriodMillis = s.maintenancePeriodMillis();
            guardSampleRate = s.guardSampleRate();
            name = s.name();
            jmx = s.jmx();
            hugePages = s.hugePages();
        }

        AllocatorConfig build() {
            return new AllocatorConfig(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                    releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, name, jmx, hugePages, osMemory,
                    maintenanceClock);
        }
    }
}
