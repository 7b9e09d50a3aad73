package io.cpuslab.core;

/**
 * For the rseq tests that drive the native sections without an allocator: a {@link NativePageMap} whose
 * spans the test lays out itself (the map's writers are package-private to core, where the page heap
 * owns them).
 *
 * <pre>{@code
 * NativePageMap classes = TestPageMaps.create(os, region, pages);
 * TestPageMaps.span(classes, firstPage, sizeClass);
 * }</pre>
 */
public final class TestPageMaps {
    private TestPageMaps() {
    }

    /** A map with leaves for {@code pages} pages from {@code firstAddress}. */
    public static NativePageMap create(OsMemory os, long firstAddress, long pages) {
        NativePageMap classes = new NativePageMap(os);
        classes.reserve(firstAddress >>> SizeClasses.PAGE_SHIFT, pages);
        return classes;
    }

    /** Marks one span of {@code sizeClass} (its class's page count) starting at {@code firstPage}. */
    public static void span(NativePageMap classes, long firstPage, int sizeClass) {
        classes.set(firstPage, SizeClasses.pages(sizeClass), sizeClass);
    }

    /** Unmaps the map. */
    public static void close(NativePageMap classes) {
        classes.close();
    }
}
