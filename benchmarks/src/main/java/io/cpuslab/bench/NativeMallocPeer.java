package io.cpuslab.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;

/**
 * A C allocator's {@code malloc}/{@code free}, and its sized free where it has one, through FFM critical
 * downcalls, loaded from its Debian package's shared object under {@code /usr/lib/<multiarch>/}. jemalloc
 * is the exception: Debian's build uses static TLS and cannot be {@code dlopen}ed into a running JVM, so
 * it works only in a JVM started with {@code LD_PRELOAD} of that file (see {@link ChildEnvironment});
 * there the lookup finds the loaded copy.
 *
 * <pre>{@code
 * try (NativeMallocPeer tcmalloc = NativeMallocPeer.open(NativeMallocPeer.Library.TCMALLOC)) {
 *     tcmalloc.free(tcmalloc.malloc(64));
 * }
 * }</pre>
 */
public final class NativeMallocPeer extends AddressPeer {
    /**
     * The native allocators measured, with their Debian shared object and entry points. The sized frees
     * are {@code sdallocx(ptr, size, flags)}, {@code tc_free_sized(ptr, size)} and {@code mi_free_size(ptr, size)};
     * glibc (2.36) has none.
     */
    public enum Library {
        GLIBC(null, null, "malloc", "free", null),
        JEMALLOC("libjemalloc.so.2", "libjemalloc2", "malloc", "free", "sdallocx"),
        TCMALLOC("libtcmalloc_minimal.so.4", "libtcmalloc-minimal4", "tc_malloc", "tc_free", "tc_free_sized"),
        MIMALLOC("libmimalloc.so.2", "libmimalloc2.0", "mi_malloc", "mi_free", "mi_free_size");

        private final String soname;
        private final String debianPackage;
        private final String mallocName;
        private final String freeName;
        private final String sizedFreeName;

        Library(String soname, String debianPackage, String mallocName, String freeName, String sizedFreeName) {
            this.soname = soname;
            this.debianPackage = debianPackage;
            this.mallocName = mallocName;
            this.freeName = freeName;
            this.sizedFreeName = sizedFreeName;
        }

        /** Whether it has a free that takes the block's size. */
        public boolean hasSizedFree() {
            return sizedFreeName != null;
        }

        /** The shared object's path for the running JVM's architecture; null for glibc (always loaded). */
        public Path path() {
            return soname == null ? null : Path.of("/usr/lib", multiarch(), soname);
        }

        /** Whether only {@code LD_PRELOAD} can bring it into a JVM. */
        public boolean needsPreload() {
            return this == JEMALLOC;
        }

        /** Why it cannot run here, checked without loading it; null when the file is present. */
        public String missing() {
            Path path = path();
            if (path == null || Files.isReadable(path)) {
                return null;
            }
            return path + " not found (Debian package " + debianPackage + " not installed)";
        }
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final int MALLINFO2_FIELDS = 10;   // struct mallinfo2: ten size_t
    private static final int FORDBLKS = 8;            // its free bytes in the arenas, the ninth

    private static final String[] TCMALLOC_FREE_BYTES = {"tcmalloc.thread_cache_free_bytes",
            "tcmalloc.central_cache_free_bytes", "tcmalloc.transfer_cache_free_bytes", "tcmalloc.pageheap_free_bytes"};

    private static final int JEMALLOC_ALL_ARENAS = 4096;   // MALLCTL_ARENAS_ALL: statistics merged over all arenas
    private static final int SDALLOCX_NO_FLAGS = 0;        // no alignment, tcache or arena hint: as free does

    private final Library library;

    private NativeMallocPeer(Library library) {
        this.library = library;
    }

    /** Loads the library; fails with the reason when it is missing or cannot be loaded here. */
    public static NativeMallocPeer open(Library library) {
        String missing = library.missing();
        if (missing != null) {
            throw new PeerUnavailableException(missing);
        }
        Functions f = functions(library);
        if (f.unavailable() != null) {
            throw new PeerUnavailableException(f.unavailable());
        }
        return new NativeMallocPeer(library);
    }

    /** A critical downcall handle: no thread-state transition, as for cpuslab's own native calls. */
    static MethodHandle critical(SymbolLookup lookup, String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(lookup.findOrThrow(name), descriptor, CRITICAL);
    }

    // Each library's handles sit in their own holder's static final field, so the JIT sees constants
    // (a handle in an instance field is invoked through a much slower non-constant path).
    @Override
    public long malloc(long size) {
        try {
            return switch (library) {
                case GLIBC -> (long) Glibc.F.malloc().invokeExact(size);
                case JEMALLOC -> (long) Jemalloc.F.malloc().invokeExact(size);
                case TCMALLOC -> (long) Tcmalloc.F.malloc().invokeExact(size);
                case MIMALLOC -> (long) Mimalloc.F.malloc().invokeExact(size);
            };
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void free(long address) {
        try {
            switch (library) {
                case GLIBC -> Glibc.F.free().invokeExact(address);
                case JEMALLOC -> Jemalloc.F.free().invokeExact(address);
                case TCMALLOC -> Tcmalloc.F.free().invokeExact(address);
                case MIMALLOC -> Mimalloc.F.free().invokeExact(address);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The library's sized free; glibc, which has none, frees unsized (the suite leaves it out of sized-free workloads). */
    @Override
    public void freeSized(long address, long size) {
        try {
            switch (library) {
                case GLIBC -> Glibc.F.free().invokeExact(address);
                case JEMALLOC -> Jemalloc.F.freeSized().invokeExact(address, size, SDALLOCX_NO_FLAGS);
                case TCMALLOC -> Tcmalloc.F.freeSized().invokeExact(address, size);
                case MIMALLOC -> Mimalloc.F.freeSized().invokeExact(address, size);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public long cachedBytes() {
        return switch (library) {
            case GLIBC -> glibcFreeBytes();
            case TCMALLOC -> tcmallocFreeBytes();
            case JEMALLOC -> jemallocFreeBytes();
            case MIMALLOC -> NOT_REPORTED;
        };
    }

    @Override
    public String cachedBytesSource() {
        return switch (library) {
            case GLIBC -> "mallinfo2().fordblks: free bytes in all arenas (blocks in the per-thread tcache count as in use)";
            case TCMALLOC -> "MallocExtension numeric properties: free bytes in thread caches, central and transfer caches, page heap";
            case JEMALLOC -> "mallctl stats: free bytes in thread caches (tcache_bytes), in active pages (active - allocated) "
                    + "and dirty or muzzy pages not yet returned";
            case MIMALLOC -> super.cachedBytesSource();
        };
    }

    private static long jemallocFreeBytes() {
        MethodHandle mallctl = LINKER.downcallHandle(lookup(Library.JEMALLOC).findOrThrow("mallctl"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment length = arena.allocate(ValueLayout.JAVA_LONG);
            value.set(ValueLayout.JAVA_LONG, 0, 1);
            // Writing "epoch" makes jemalloc refresh the statistics read below.
            check((int) mallctl.invokeExact(arena.allocateFrom("epoch"), MemorySegment.NULL, MemorySegment.NULL,
                    value, ValueLayout.JAVA_LONG.byteSize()), "epoch");
            Mallctl read = name -> {
                length.set(ValueLayout.JAVA_LONG, 0, ValueLayout.JAVA_LONG.byteSize());
                check((int) mallctl.invokeExact(arena.allocateFrom(name), value, length, MemorySegment.NULL, 0L), name);
                return value.get(ValueLayout.JAVA_LONG, 0);
            };
            return read.get("stats.arenas." + JEMALLOC_ALL_ARENAS + ".tcache_bytes")
                    + read.get("stats.active") - read.get("stats.allocated")
                    + (read.get("stats.arenas." + JEMALLOC_ALL_ARENAS + ".pdirty")
                    + read.get("stats.arenas." + JEMALLOC_ALL_ARENAS + ".pmuzzy")) * read.get("arenas.page");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mallctl failed", t);
        }
    }

    /** One jemalloc statistic by name. */
    @FunctionalInterface
    private interface Mallctl {
        long get(String name) throws Throwable;
    }

    private static void check(int error, String name) {
        if (error != 0) {
            throw new IllegalStateException("mallctl(\"" + name + "\") failed with error " + error);
        }
    }

    private static long tcmallocFreeBytes() {
        MethodHandle property = LINKER.downcallHandle(lookup(Library.TCMALLOC).findOrThrow("MallocExtension_GetNumericProperty"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        long sum = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ValueLayout.JAVA_LONG);
            for (String name : TCMALLOC_FREE_BYTES) {
                if ((int) property.invokeExact(arena.allocateFrom(name), value) == 0) {
                    throw new IllegalStateException("tcmalloc does not know the property " + name);
                }
                sum += value.get(ValueLayout.JAVA_LONG, 0);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("MallocExtension_GetNumericProperty failed", t);
        }
        return sum;
    }

    private static long glibcFreeBytes() {
        MemoryLayout info = MemoryLayout.structLayout(Collections.nCopies(MALLINFO2_FIELDS, ValueLayout.JAVA_LONG)
                .toArray(MemoryLayout[]::new));
        MethodHandle mallinfo2 = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mallinfo2"), FunctionDescriptor.of(info));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment result = (MemorySegment) mallinfo2.invokeExact((SegmentAllocator) arena);
            return result.getAtIndex(ValueLayout.JAVA_LONG, FORDBLKS);
        } catch (Throwable t) {
            throw new IllegalStateException("mallinfo2 failed", t);
        }
    }

    private static Functions functions(Library library) {
        return switch (library) {
            case GLIBC -> Glibc.F;
            case JEMALLOC -> Jemalloc.F;
            case TCMALLOC -> Tcmalloc.F;
            case MIMALLOC -> Mimalloc.F;
        };
    }

    /** The library's symbols (glibc's through the JDK's default lookup); loads it if it is not yet. */
    private static SymbolLookup lookup(Library library) {
        return library.path() == null ? LINKER.defaultLookup() : SymbolLookup.libraryLookup(library.path(), Arena.global());
    }

    static String multiarch() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> "x86_64-linux-gnu";
            case "aarch64", "arm64" -> "aarch64-linux-gnu";
            default -> arch.toLowerCase(Locale.ROOT) + "-linux-gnu";
        };
    }

    /**
     * A library's entry points (no sized free for glibc), or why they could not be bound. Records' fields
     * are trusted finals.
     */
    private record Functions(MethodHandle malloc, MethodHandle free, MethodHandle freeSized, String unavailable) {
        static Functions load(Library library) {
            try {
                SymbolLookup lookup = lookup(library);
                FunctionDescriptor sized = library == Library.JEMALLOC
                        ? FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)
                        : FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
                return new Functions(
                        critical(lookup, library.mallocName, FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)),
                        critical(lookup, library.freeName, FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG)),
                        library.hasSizedFree() ? critical(lookup, library.sizedFreeName, sized) : null,
                        null);
            } catch (RuntimeException e) {
                String hint = library.needsPreload()
                        ? " (Debian's jemalloc uses static TLS: it loads only into a JVM started with LD_PRELOAD=" + library.path() + ")"
                        : "";
                return new Functions(null, null, null, "cannot load " + library.path() + ": " + e.getMessage() + hint);
            }
        }
    }

    private static final class Glibc {
        static final Functions F = Functions.load(Library.GLIBC);
    }

    private static final class Jemalloc {
        static final Functions F = Functions.load(Library.JEMALLOC);
    }

    private static final class Tcmalloc {
        static final Functions F = Functions.load(Library.TCMALLOC);
    }

    private static final class Mimalloc {
        static final Functions F = Functions.load(Library.MIMALLOC);
    }
}
