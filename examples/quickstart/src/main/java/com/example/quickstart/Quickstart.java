package com.example.quickstart;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A user's program: allocate a block as a segment, write, read, free, and say which front end ran. It
 * makes no restricted call itself (no {@code reinterpret}), so only cpuslab needs native access.
 */
public final class Quickstart {
    public static void main(String[] args) {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            MemorySegment block = allocator.allocate(64);
            block.set(ValueLayout.JAVA_LONG, 0, 42);
            long read = block.get(ValueLayout.JAVA_LONG, 0);
            allocator.free(block);
            if (read != 42 || allocator.stats().applicationBytes() != 0) {
                throw new AssertionError("read " + read + ", " + allocator.stats().applicationBytes() + " bytes still in use");
            }
            System.out.println("cpuslab quickstart: 64 bytes allocated, written, read and freed; " + allocator.frontEnd());
        }
    }
}
