package io.cpuslab.core;

/**
 * The OS refused memory: what an {@link OsMemory#map} throws, as the JDK's {@code Arena} throws an
 * {@link OutOfMemoryError} when native memory runs out. A type of its own so that its one catcher,
 * the page heap's growth, turns exactly this into a {@link NoMemory} value and lets an
 * {@code OutOfMemoryError} of the Java heap pass through. Where slab memory or the native page map's root
 * is mapped, as an allocator is built, nothing catches it: the builder's caller gets it as the
 * {@code OutOfMemoryError} it is.
 *
 * <pre>{@code
 * long base;
 * try {
 *     base = os.map(bytes, alignment);
 * } catch (OffHeapExhaustedError e) {
 *     return new NoMemory(pages, e.getMessage());   // "mmap of 66 MiB failed: errno 12"
 * }
 * }</pre>
 */
public final class OffHeapExhaustedError extends OutOfMemoryError {
    private static final long serialVersionUID = 1L;

    public OffHeapExhaustedError(String message) {
        super(message);
    }
}
