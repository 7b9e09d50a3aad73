package io.cpuslab.core;

/**
 * The page heap's answer when it cannot give memory: the pages asked and why not (the memory limit with
 * the numbers, a request larger than the address space, the OS's own refusal). A value, not an error:
 * each layer under a public entry point hands it up as its answer, and keeps serving with what it holds
 * when it can (a partial batch, the ordinary path instead of a guarded block). Only the public entry point
 * makes an {@link OutOfMemoryError} of it; the layers in between catch none, so an {@code OutOfMemoryError}
 * of the Java heap passes through them as itself.
 *
 * <p>It travels as the return value, never through a field of a shared object: two threads refused at
 * once each get their own reason.
 *
 * <pre>{@code
 * switch (pageHeap.allocate(pages, 0)) {
 *     case Span span -> ...;
 *     case NoMemory noMemory -> throw noMemory.error(size);   // at the public entry point only
 * }
 * }</pre>
 *
 * @param pages the pages asked of the page heap
 * @param why   the reason, e.g. "memory limit 64 MiB, in use 40 MiB" or "mmap of 66 MiB failed: errno 12"
 */
record NoMemory(long pages, String why) implements PageHeap.Allocation, Batch, CpuCache.Refill {
    /**
     * The error a public entry point throws for a request of {@code size} bytes that this refused. A plain
     * {@code OutOfMemoryError}: the API promises that type, and nothing above the entry point tells kinds apart.
     */
    OutOfMemoryError error(long size) {
        return new OutOfMemoryError("cpuslab: cannot allocate " + size + " bytes: " + this);
    }

    @Override
    public String toString() {
        return "the page heap refused " + pages + (pages == 1 ? " page (" : " pages (")
                + Bytes.format(pages << SizeClasses.PAGE_SHIFT) + "): " + why;
    }
}
