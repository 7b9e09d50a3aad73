package io.cpuslab.all;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/**
 * Allocates and frees one block, prints the front end, and whether a public class of the back end can be
 * used from here: run by {@link ModulePathTest} in other JVMs.
 */
public final class PrintFrontEnd {
    public static void main(String[] args) throws ClassNotFoundException {
        Class<?> internal = Class.forName("io.cpuslab.core.CpuSlabAllocator");
        System.out.println("INTERNALS: " + (PrintFrontEnd.class.getModule().canRead(internal.getModule())
                && internal.getModule().isExported(internal.getPackageName(), PrintFrontEnd.class.getModule()) ? "reachable" : "unreachable"));
        try (OffHeapAllocator allocator = CpuSlab.create()) {
            allocator.free(allocator.malloc(64));
            System.out.println("FRONT END: " + allocator.frontEnd());
        }
    }
}
