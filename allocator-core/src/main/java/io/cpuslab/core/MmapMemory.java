package io.cpuslab.core;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Linux memory through FFM downcalls to libc: {@code mmap} of private anonymous regions, {@code munmap},
 * {@code madvise(MADV_DONTNEED)} to return free pages to the OS, {@code madvise(MADV_HUGEPAGE)} to ask for
 * transparent huge pages, and {@code mprotect} for guard pages.
 *
 * <p>These calls may take long (page-table work for big ranges), so they are ordinary downcalls, not
 * {@code critical} ones: a critical call would hold up safepoints while the kernel works.
 */
final class MmapMemory implements OsMemory {
    // Linux values, identical on x86-64 and aarch64.
    private static final int PROT_NONE = 0x0;
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    /** Reserve address space without swap reservation: pages cost memory only when first touched. */
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_DONTNEED = 4;
    private static final int MADV_HUGEPAGE = 14;
    private static final long MAP_FAILED = -1L;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle MADVISE;
    private static final MethodHandle MPROTECT;
    private static final Throwable UNSUPPORTED;

    static {
        MethodHandle mmap = null, munmap = null, madvise = null, mprotect = null;
        Throwable why = null;
        try {
            if (!System.getProperty("os.name", "").toLowerCase().startsWith("linux")) {
                throw new UnsupportedOperationException("not Linux");
            }
            Linker linker = Linker.nativeLinker();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            var libc = linker.defaultLookup();
            mmap = linker.downcallHandle(libc.findOrThrow("mmap"), FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG), errno);
            munmap = linker.downcallHandle(libc.findOrThrow("munmap"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), errno);
            madvise = linker.downcallHandle(libc.findOrThrow("madvise"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno);
            mprotect = linker.downcallHandle(libc.findOrThrow("mprotect"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno);
        } catch (Throwable t) {
            why = t;
        }
        MMAP = mmap;
        MUNMAP = munmap;
        MADVISE = madvise;
        MPROTECT = mprotect;
        UNSUPPORTED = why;
    }

    static boolean isSupported() {
        return UNSUPPORTED == null;
    }

    @Override
    public long map(long bytes, long alignment) {
        // Over-map by the alignment, then cut the unaligned head and the tail off.
        long span = Math.addExact(bytes, alignment);
        long raw;
        int errno;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            raw = (long) MMAP.invokeExact(state, 0L, span, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            errno = (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw downcallFailed("mmap", t);
        }
        if (raw == MAP_FAILED) {
            throw new OffHeapExhaustedError("mmap of " + Bytes.format(span) + " failed: errno " + errno);
        }
        long base = (raw + alignment - 1) & -alignment;
        if (base > raw) {
            unmap(raw, base - raw);
        }
        long tail = raw + span - (base + bytes);
        if (tail > 0) {
            unmap(base + bytes, tail);
        }
        return base;
    }

    @Override
    public void unmap(long address, long bytes) {
        check("munmap", call(MUNMAP, address, bytes, -1));
    }

    @Override
    public void release(long address, long bytes) {
        check("madvise(MADV_DONTNEED)", call(MADVISE, address, bytes, MADV_DONTNEED));
    }

    /** Fails with EINVAL on a kernel built without transparent huge pages: the caller then does without. */
    @Override
    public boolean adviseHugePages(long address, long bytes) {
        return call(MADVISE, address, bytes, MADV_HUGEPAGE) == 0;
    }

    @Override
    public boolean canAdviseHugePages() {
        return true;
    }

    /** May fail with ENOMEM when the process reaches its limit of mappings: the caller then does without. */
    @Override
    public boolean protect(long address, long bytes, boolean accessible) {
        return call(MPROTECT, address, bytes, accessible ? PROT_READ | PROT_WRITE : PROT_NONE) == 0;
    }

    @Override
    public boolean canProtect() {
        return true;
    }

    /** Runs munmap (advice < 0), or madvise or mprotect with {@code advice}, and returns errno, or 0 on success. */
    private static int call(MethodHandle handle, long address, long bytes, int advice) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = advice < 0
                    ? (int) handle.invokeExact(state, address, bytes)
                    : (int) handle.invokeExact(state, address, bytes, advice);
            return rc == 0 ? 0 : (int) ERRNO.get(state, 0L);
        } catch (Throwable t) {
            throw downcallFailed("native memory call", t);
        }
    }

    /**
     * Errors stay what they are: a StackOverflowError or OutOfMemoryError of the JVM inside the call must
     * not turn into an IllegalStateException that callers would take for a bug here.
     */
    private static RuntimeException downcallFailed(String what, Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(what + " downcall failed", t);
    }

    private static void check(String what, int errno) {
        if (errno != 0) {
            // Only reachable through an allocator bug (a range it did not map): never ignore it.
            throw new IllegalStateException(what + " failed: errno " + errno);
        }
    }

    @Override
    public boolean canRelease() {
        return true;
    }

    @Override
    public String description() {
        return "mmap";
    }
}
