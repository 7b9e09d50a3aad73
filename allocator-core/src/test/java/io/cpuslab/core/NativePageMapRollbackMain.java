package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Run in a forked JVM by {@link AllocatorConstructionTest}, with {@link Provider} named in a services file
 * on the boot class path: the native fast path is then available, so an allocator of that provider keeps
 * a native page map, which the test JVM's allocators never do. Makes one whose construction fails, in
 * one of two ways, and prints {@code OK} when nothing it mapped is left mapped but what the OS refused
 * to unmap, else {@code FAILED} and what is.
 *
 * <ul>
 *   <li>{@code huge-pages}: asking the OS memory about huge pages fails, after the native page map is
 *       made and before the page heap that would own it;</li>
 *   <li>{@code slab-unmap}: the front end cannot be made (the page heap owns the native page map by
 *       then), and the rollback's unmap of the slabs fails.</li>
 * </ul>
 */
public final class NativePageMapRollbackMain {
    private NativePageMapRollbackMain() {
    }

    public static void main(String[] args) {
        if (!NativeFastPath.available()) {
            System.out.println("FAILED: no native fast path: the services file naming " + Provider.class.getName()
                    + " is not on the boot class path");
            return;
        }
        FaultyMemory faulty = new FaultyMemory();
        RuntimeException failure = new IllegalStateException("test: construction fails");
        Provider provider = new Provider();
        AllocatorConfig config = AllocatorConfig.defaults(CpuSlab.FrontEnd.LOCKED).withJmx(false);
        switch (args[0]) {
            case "huge-pages" -> config = config.withOsMemory(new NoHugePageAnswer(faulty, failure))
                    .withHugePages(CpuSlab.HugePages.AUTO);
            case "slab-unmap" -> {
                config = config.withOsMemory(faulty).withHugePages(CpuSlab.HugePages.OFF);
                provider.createFailure = failure;
                faulty.failUnmaps(1); // the rollback's first unmap: the slabs
            }
            default -> throw new IllegalArgumentException("no such scenario: " + args[0]);
        }
        try {
            AllocatorParts.open(config, new FrontEndSelection.Choice(provider, "test"), "rollback").close();
            System.out.println("FAILED: construction succeeded");
            return;
        } catch (RuntimeException e) {
            if (e != failure) {
                e.printStackTrace(System.out);
                System.out.println("FAILED: the caller got " + e + " instead of construction's failure");
                return;
            }
        }
        long refused = faulty.failedUnmaps.stream().mapToLong(region -> region[1]).sum();
        long left = faulty.mappedBytes.get() - refused;
        System.out.println(left == 0 ? "OK" : "FAILED: " + Bytes.format(left) + " still mapped besides the "
                + Bytes.format(refused) + " the OS refused to unmap");
    }

    /** Gives the native fast path entries that are never called: construction fails before anyone could. */
    public static final class Provider extends OneSlabProvider {
        public Provider() {
        }

        @Override
        public NativeFastPath.Entries nativeFastPath() {
            MethodType malloc = MethodType.methodType(long.class, long.class, long.class);
            MethodType free = MethodType.methodType(int.class, long.class, long.class);
            return new NativeFastPath.Entries(flavoured(malloc), flavoured(free),
                    MethodHandles.empty(MethodType.methodType(int.class, long.class, long.class, MemorySegment.class, int.class)),
                    MethodHandles.empty(MethodType.methodType(int.class, long.class, MemorySegment.class, int.class)));
        }

        private static NativeFastPath.Flavoured flavoured(MethodType type) {
            MethodHandle none = MethodHandles.empty(type);
            return new NativeFastPath.Flavoured(none, none, none);
        }
    }

    /** {@code os}, except that asking whether it can advise huge pages throws {@code failure}. */
    private record NoHugePageAnswer(OsMemory os, RuntimeException failure) implements OsMemory {
        @Override
        public long map(long bytes, long alignment) {
            return os.map(bytes, alignment);
        }

        @Override
        public void unmap(long address, long bytes) {
            os.unmap(address, bytes);
        }

        @Override
        public void release(long address, long bytes) {
            os.release(address, bytes);
        }

        @Override
        public boolean canRelease() {
            return os.canRelease();
        }

        @Override
        public boolean canAdviseHugePages() {
            throw failure;
        }

        @Override
        public String description() {
            return "no huge-page answer over " + os.description();
        }
    }
}
