package io.cpuslab.core;

/**
 * For tests that count on the page heap having memory: the span it gave, or a failure that says why there
 * was none.
 *
 * <pre>{@code
 * Span a = span(heap.allocate(3, 0));
 * }</pre>
 */
final class TestSpans {
    private TestSpans() {
    }

    static Span span(PageHeap.Allocation allocation) {
        return switch (allocation) {
            case Span span -> span;
            case NoMemory noMemory -> throw new AssertionError("expected a span: " + noMemory);
        };
    }
}
