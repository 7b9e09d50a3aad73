package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/** For forked JVMs: creates an allocator from the system properties, uses it, prints its front end. */
final class PrintFrontEnd {
    private PrintFrontEnd() {
    }

    public static void main(String[] args) {
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            allocator.free(allocator.malloc(100));
            System.out.println("FRONT END: " + allocator.frontEnd());
        }
    }
}
