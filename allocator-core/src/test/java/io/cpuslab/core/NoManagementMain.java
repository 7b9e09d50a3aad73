package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/**
 * Run by {@link AllocatorMXBeanTest} in a JVM without {@code java.management}: makes an allocator (front end
 * from {@code -Dcpuslab.frontEnd}), uses and closes it, and prints {@code OK} and the front end.
 */
public final class NoManagementMain {
    private NoManagementMain() {
    }

    public static void main(String[] args) {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            allocator.free(allocator.malloc(64));
            System.out.println("OK " + allocator.frontEnd());
        }
    }
}
