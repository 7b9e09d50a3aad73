package io.cpuslab.core;

/**
 * The OS or a limit refused memory: an {@link OutOfMemoryError}, so it reaches the caller as the API
 * promises, but a type of its own, so that the layers that can still serve a request with what they
 * already hold (a partial batch, the ordinary path instead of a guarded block) catch this and nothing
 * else. An {@code OutOfMemoryError} of the Java heap passes through them untouched.
 *
 * <pre>{@code
 * try {
 *     span = pageHeap.allocate(pages, sizeClass);
 * } catch (OffHeapExhaustedError e) {
 *     return served; // keep what was found before the heap ran out
 * }
 * }</pre>
 */
public final class OffHeapExhaustedError extends OutOfMemoryError {
    private static final long serialVersionUID = 1L;

    public OffHeapExhaustedError(String message) {
        super(message);
    }
}
