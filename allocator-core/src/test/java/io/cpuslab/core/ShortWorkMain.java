package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/**
 * Run by the JFR and JMX tests in a JVM of its own: makes one unnamed allocator (front end from
 * {@code -Dcpuslab.frontEnd}, a 4 MiB soft and a 64 MiB hard limit), runs every slow operation that has a
 * JFR event (page heap growth, a soft limit hit and its release, a refused request, drains and
 * {@code releaseMemory}'s release), closes it, and prints {@code OK} and the front end.
 */
public final class ShortWorkMain {
    private ShortWorkMain() {
    }

    public static void main(String[] args) {
        try (OffHeapAllocator allocator = CpuSlab.builder().softMemoryLimit(4 << 20).memoryLimit(64 << 20).build()) {
            allocator.free(allocator.malloc(64));
            allocator.free(allocator.malloc(6 << 20));
            try {
                allocator.malloc(128 << 20);
                throw new AssertionError("a request over the memory limit was served");
            } catch (OutOfMemoryError expected) {
                // the limit hit this main is for
            }
            allocator.releaseMemory();
            System.out.println("OK " + allocator.frontEnd());
        }
    }
}
