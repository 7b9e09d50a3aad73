package io.cpuslab;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.ServiceLoader;

/**
 * Entry point: creates allocators.
 *
 * <pre>{@code
 * OffHeapAllocator alloc = CpuSlab.create();                 // AUTO front end, defaults
 * OffHeapAllocator tuned = CpuSlab.builder()
 *         .frontEnd(CpuSlab.FrontEnd.LOCKED)
 *         .perCpuCacheBytes(512 * 1024)
 *         .memoryLimit(1L << 30)              // hard: beyond it OutOfMemoryError
 *         .softMemoryLimit(768L << 20)        // soft: above it free pages go back at once
 *         .releaseRate(64L << 20)             // background: 64 MiB/s of free pages back to the OS
 *         .idleDrainMillis(5000)              // background: drain caches idle for 5 s
 *         .checked(true)
 *         .build();
 * long p = CpuSlab.global().malloc(128);                     // the process-wide instance
 * }</pre>
 *
 * <p>{@link #create()}, {@link #global()} and {@link #builder()} take their defaults from system
 * properties; a builder's explicit settings win over them:
 * {@code cpuslab.frontEnd=AUTO|RSEQ|LOCKED}, {@code cpuslab.rseqMode=COMPLIANT|OVERLAY},
 * {@code cpuslab.index=CPU|MM_CID}, {@code cpuslab.perCpuCacheBytes=N}, {@code cpuslab.checked=true|false},
 * {@code cpuslab.memoryLimit=N}, {@code cpuslab.softMemoryLimit=N}, {@code cpuslab.releaseRate=N}
 * (bytes/s, 0 = no background release), {@code cpuslab.idleDrainMillis=N} (0 = never),
 * {@code cpuslab.maintenancePeriodMillis=N}, {@code cpuslab.guardSampleRate=N} (0 = no guard pages),
 * {@code cpuslab.jmx=true|false} (the allocator's MXBean), {@code cpuslab.hugePages=AUTO|OFF}. Sizes accept a {@code k}, {@code m} or {@code g}
 * suffix ({@code 512m}). An allocator's {@link Builder#name name} has no property: every allocator made from
 * the properties would get the same one.
 *
 * <p>This package names no class of the implementation: {@link Builder#build()} hands its {@link Settings}
 * to the {@link Backend} that cpuslab's back end provides as a service.
 */
public final class CpuSlab {
    /** TCMalloc's default per-CPU cache budget. */
    public static final long DEFAULT_PER_CPU_CACHE_BYTES = 1536 * 1024;

    private CpuSlab() {
    }

    /** Which front end serves the per-CPU caches. */
    public enum FrontEnd {
        /** rseq where it works (native library, supported CPU, registered rseq, aborts verified), else locked. */
        AUTO,
        /** rseq or fail: {@code create} throws with the reason when it cannot run. */
        RSEQ,
        /** The lock-based front end, on every OS. */
        LOCKED
    }

    /** How the rseq front end finds its CPU's slab. */
    public enum RseqMode {
        /** Only documented rseq fields: reads the CPU inside every critical section. */
        COMPLIANT,
        /** TCMalloc's cached-slab trick on {@code cpu_id_start}; only where a kernel probe proves it safe. */
        OVERLAY
    }

    /** What numbers the slabs: the CPU, or the kernel's per-process concurrency id. */
    public enum Index {
        CPU,
        MM_CID
    }

    /**
     * Whether the page heap is hugepage-aware (TCMalloc's Temeraire): small spans packed into the fullest
     * 2 MiB hugepage that fits them, larger ones in whole hugepages, memory released in whole hugepages,
     * and the heap's regions advised {@code MADV_HUGEPAGE} so the kernel backs them with transparent huge
     * pages. The application's own loads and stores then miss the TLB less.
     *
     * <pre>{@code
     * OffHeapAllocator plain = CpuSlab.builder().hugePages(CpuSlab.HugePages.OFF).build();
     * System.out.println(CpuSlab.create().stats().hugePages().reason());   // what AUTO decided here, and why
     * }</pre>
     */
    public enum HugePages {
        /**
         * On where the kernel has transparent huge pages in {@code madvise} or {@code always} mode (Linux),
         * off elsewhere; {@code stats().hugePages()} says which and why.
         */
        AUTO,
        /** The page heap of 8 KiB page runs, regions not advised: as on a system without hugepages. */
        OFF
    }

    /**
     * Every setting of an allocator, as a {@link Builder} settles them (its explicit settings over the
     * system properties over {@link #DEFAULTS}); the back end builds the allocator from exactly these.
     *
     * <pre>{@code
     * CpuSlab.Settings s = CpuSlab.builder().memoryLimit(1L << 30).settings();
     * System.out.println(s.frontEnd() + " " + s.perCpuCacheBytes());   // what -Dcpuslab.* made of the rest
     * }</pre>
     *
     * @param name the allocator's name, or null for a number (see {@link Builder#name})
     * @see Builder for what each setting means and the values each accepts
     */
    public record Settings(FrontEnd frontEnd, RseqMode rseqMode, Index index, long perCpuCacheBytes, boolean checked,
                           long memoryLimit, long softMemoryLimit, long releaseRate, long idleDrainMillis,
                           long maintenancePeriodMillis, long guardSampleRate, String name, boolean jmx, HugePages hugePages) {
        /**
         * The defaults, the one place they are written: AUTO front end, compliant rseq mode indexed by CPU,
         * TCMalloc's per-CPU budget, unchecked, no limits, no background work (which would wake up each
         * second), no guard pages, numbered, MXBean registered, hugepages where the kernel has them.
         */
        public static final Settings DEFAULTS = new Settings(FrontEnd.AUTO, RseqMode.COMPLIANT, Index.CPU,
                DEFAULT_PER_CPU_CACHE_BYTES, false, Long.MAX_VALUE, Long.MAX_VALUE, 0, 0, 1000, 0, null, true, HugePages.AUTO);

        public Settings {
            Objects.requireNonNull(frontEnd, "frontEnd");
            Objects.requireNonNull(rseqMode, "rseqMode");
            Objects.requireNonNull(index, "index");
            Objects.requireNonNull(hugePages, "hugePages");
        }
    }

    /**
     * How this class reaches the implementation without naming it: cpuslab's back end provides one as a
     * service ({@code provides} in module {@code io.cpuslab}, {@code META-INF/services} on the class path).
     * Not for applications to implement or call: use {@link CpuSlab#create()} and {@link #builder()}.
     *
     * <pre>{@code
     * OffHeapAllocator a = CpuSlab.builder().build();   // Backend.create(settings) underneath
     * }</pre>
     */
    public interface Backend {
        /** A new allocator from {@code settings}; {@link IllegalStateException} if its front end cannot run. */
        OffHeapAllocator create(Settings settings);

        /** The process-wide allocator behind {@link CpuSlab#global()}, which refuses to close. */
        OffHeapAllocator createGlobal(Settings settings);
    }

    /** The back end, found once. */
    private static final class Implementation {
        static final Backend BACKEND = ServiceLoader.load(Backend.class, CpuSlab.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("cpuslab: no back end found (io.cpuslab.core's "
                        + "META-INF/services entry for io.cpuslab.CpuSlab$Backend is missing from the class path)"));
    }

    /** A new allocator with defaults from the system properties. */
    public static OffHeapAllocator create() {
        return builder().build();
    }

    /** A builder starting from the system-property defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * One shared instance for the process, created on first use from the system properties. It cannot be
     * closed: {@code close()} on it throws {@link UnsupportedOperationException}.
     */
    public static OffHeapAllocator global() {
        return Global.INSTANCE;
    }

    private static final class Global {
        static final OffHeapAllocator INSTANCE = Implementation.BACKEND.createGlobal(builder().settings());
    }

    /** Settings for a new allocator. Every setter validates at once and names a bad value. */
    public static final class Builder {
        private FrontEnd frontEnd = property("frontEnd", Settings.DEFAULTS.frontEnd());
        private RseqMode rseqMode = property("rseqMode", Settings.DEFAULTS.rseqMode());
        private Index index = property("index", Settings.DEFAULTS.index());
        private long perCpuCacheBytes = sizeProperty("perCpuCacheBytes", Settings.DEFAULTS.perCpuCacheBytes(), false);
        private boolean checked = booleanProperty("checked", Settings.DEFAULTS.checked());
        private long memoryLimit = sizeProperty("memoryLimit", Settings.DEFAULTS.memoryLimit(), false);
        private long softMemoryLimit = sizeProperty("softMemoryLimit", Settings.DEFAULTS.softMemoryLimit(), false);
        private long releaseRate = sizeProperty("releaseRate", Settings.DEFAULTS.releaseRate(), true);
        private long idleDrainMillis = sizeProperty("idleDrainMillis", Settings.DEFAULTS.idleDrainMillis(), true);
        private long maintenancePeriodMillis = sizeProperty("maintenancePeriodMillis",
                Settings.DEFAULTS.maintenancePeriodMillis(), false);
        private long guardSampleRate = sizeProperty("guardSampleRate", Settings.DEFAULTS.guardSampleRate(), true);
        private String name = Settings.DEFAULTS.name();
        private boolean jmx = booleanProperty("jmx", Settings.DEFAULTS.jmx());
        private HugePages hugePages = property("hugePages", Settings.DEFAULTS.hugePages());

        private Builder() {
        }

        public Builder frontEnd(FrontEnd value) {
            frontEnd = Objects.requireNonNull(value, "frontEnd");
            return this;
        }

        public Builder rseqMode(RseqMode value) {
            rseqMode = Objects.requireNonNull(value, "rseqMode");
            return this;
        }

        public Builder index(Index value) {
            index = Objects.requireNonNull(value, "index");
            return this;
        }

        /** Most bytes of free objects each per-CPU cache may hold (default 1.5 MiB). */
        public Builder perCpuCacheBytes(long bytes) {
            perCpuCacheBytes = positive("perCpuCacheBytes", bytes);
            return this;
        }

        /**
         * Checked mode: detects double frees, foreign and interior frees and wrong sizes on every call,
         * overruns past the size asked (a canary right after it, verified on free; {@code usableSize} is
         * then exactly the size asked) and writes after free (freed small blocks are poisoned and verified
         * when handed out again).
         */
        public Builder checked(boolean value) {
            checked = value;
            return this;
        }

        /**
         * Hard limit: most bytes of memory the allocator may keep backed (in use + free, not released);
         * an allocation beyond it throws {@link OutOfMemoryError} with the numbers.
         */
        public Builder memoryLimit(long bytes) {
            memoryLimit = positive("memoryLimit", bytes);
            return this;
        }

        /**
         * Soft limit: above this many backed bytes, free pages go back to the OS on every free and the
         * maintenance thread drains every cache each period; allocations never fail because of it.
         */
        public Builder softMemoryLimit(long bytes) {
            softMemoryLimit = positive("softMemoryLimit", bytes);
            return this;
        }

        /** Bytes per second a background thread returns to the OS from free pages; 0 turns it off. */
        public Builder releaseRate(long bytesPerSecond) {
            releaseRate = notNegative("releaseRate", bytesPerSecond);
            return this;
        }

        /** The background thread drains per-CPU and transfer caches that had no miss for this long; 0 = never. */
        public Builder idleDrainMillis(long millis) {
            idleDrainMillis = notNegative("idleDrainMillis", millis);
            return this;
        }

        /** How often the background thread wakes up (default 1000 ms). */
        public Builder maintenancePeriodMillis(long millis) {
            maintenancePeriodMillis = positive("maintenancePeriodMillis", millis);
            return this;
        }

        /**
         * One in {@code n} small allocations is placed right before a {@code PROT_NONE} page, so an
         * overrun past its end faults at once (TCMalloc's GWP-ASan idea); 0 turns it off. Linux only.
         */
        public Builder guardSampleRate(long n) {
            guardSampleRate = notNegative("guardSampleRate", n);
            return this;
        }

        /**
         * The allocator's name: its MXBean is {@code io.cpuslab:type=Allocator,name=<name>} and its JFR events
         * carry it in their {@code allocator} field. Letters, digits, {@code .}, {@code _} and {@code -}.
         * Without one, allocators are numbered 1, 2, ... in the order they are made ({@link CpuSlab#global()}
         * is {@code global}). Two live allocators of one name both work; only the first has the MXBean.
         */
        public Builder name(String value) {
            Objects.requireNonNull(value, "name");
            if (!value.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("name must be letters, digits, '.', '_' or '-': \"" + value + "\"");
            }
            name = value;
            return this;
        }

        /**
         * Whether the allocator registers an {@link AllocatorMXBean} in the platform MBean server (default
         * true). Where that fails (no {@code java.management} module, a name already taken) the allocator
         * still works, and says why in a {@code DEBUG} line of the {@code io.cpuslab} logger.
         */
        public Builder jmx(boolean value) {
            jmx = value;
            return this;
        }

        /** Hugepage-aware page heap where the kernel has transparent huge pages ({@code AUTO}, the default), or not. */
        public Builder hugePages(HugePages value) {
            hugePages = Objects.requireNonNull(value, "hugePages");
            return this;
        }

        /** A new allocator. Throws {@link IllegalStateException} if the front end asked for cannot run, saying why. */
        public OffHeapAllocator build() {
            return Implementation.BACKEND.create(settings());
        }

        /** What this builder settled on: its explicit settings over the system properties over the defaults. */
        public Settings settings() {
            return new Settings(frontEnd, rseqMode, index, perCpuCacheBytes, checked, memoryLimit, softMemoryLimit,
                    releaseRate, idleDrainMillis, maintenancePeriodMillis, guardSampleRate, name, jmx, hugePages);
        }

        private static long positive(String name, long value) {
            if (value <= 0) {
                throw new IllegalArgumentException(name + " must be > 0: " + value);
            }
            return value;
        }

        private static long notNegative(String name, long value) {
            if (value < 0) {
                throw new IllegalArgumentException(name + " must be >= 0: " + value);
            }
            return value;
        }

        private static boolean booleanProperty(String name, boolean fallback) {
            String value = System.getProperty("cpuslab." + name);
            if (value == null) {
                return fallback;
            }
            if (!value.trim().equalsIgnoreCase("true") && !value.trim().equalsIgnoreCase("false")) {
                throw new IllegalArgumentException("cpuslab." + name + " must be true or false: " + value);
            }
            return Boolean.parseBoolean(value.trim());
        }

        private static <E extends Enum<E>> E property(String name, E fallback) {
            String value = System.getProperty("cpuslab." + name);
            if (value == null) {
                return fallback;
            }
            try {
                return Enum.valueOf(fallback.getDeclaringClass(), value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cpuslab." + name + " must be one of "
                        + Arrays.toString(fallback.getDeclaringClass().getEnumConstants()) + ": " + value);
            }
        }

        private static long sizeProperty(String name, long fallback, boolean zeroAllowed) {
            String value = System.getProperty("cpuslab." + name);
            if (value == null) {
                return fallback;
            }
            long size = parseSize(value);
            if (size < 0 || (size == 0 && !zeroAllowed)) {
                throw new IllegalArgumentException("cpuslab." + name + " must be a size" + (zeroAllowed ? " >= 0" : " > 0") + ": " + value);
            }
            return size;
        }

        /** Parses {@code 123}, {@code 64k}, {@code 512m}, {@code 2g}; -1 when it is not a size. */
        static long parseSize(String text) {
            String s = text.trim().toLowerCase(Locale.ROOT);
            int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                default -> 0;
            };
            try {
                long n = Long.parseLong(shift == 0 ? s : s.substring(0, s.length() - 1));
                return n < 0 || n > Long.MAX_VALUE >> shift ? -1 : n << shift;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}
