package io.cpuslab.core;

import io.cpuslab.OffHeapAllocator;

import java.util.ArrayList;
import java.util.List;

/**
 * The allocators one test makes, closed together after it (even when it fails half-way).
 *
 * <pre>{@code
 * private final TestAllocators allocators = new TestAllocators();
 * @AfterEach void closeAll() { allocators.close(); }
 * }</pre>
 */
public final class TestAllocators implements AutoCloseable {
    private final List<OffHeapAllocator> created = new ArrayList<>();

    /** A new allocator with {@code config}, closed by {@link #close()}. */
    public OffHeapAllocator create(AllocatorConfig config) {
        OffHeapAllocator allocator = CpuSlabAllocator.create(config);
        created.add(allocator);
        return allocator;
    }

    @Override
    public void close() {
        created.forEach(OffHeapAllocator::close);
        created.clear();
    }
}
