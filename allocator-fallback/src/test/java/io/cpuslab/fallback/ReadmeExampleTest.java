package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's "Use it" example, verbatim but for the prints, so it keeps compiling and working. */
class ReadmeExampleTest {
    @Test
    void readmeExampleRuns() {
        try (OffHeapAllocator alloc = CpuSlab.create()) {
            long p = alloc.malloc(256);
            MemorySegment.ofAddress(p).reinterpret(256).fill((byte) 7);
            alloc.free(p);

            MemorySegment s = alloc.allocate(ValueLayout.JAVA_LONG, 100);
            alloc.free(s);
            try (Arena arena = alloc.newArena()) {
                arena.allocate(4096);
            }
            String info = alloc.frontEnd().toString();
            String report = alloc.statsReport();
            assertEquals(true, report.contains(info));
            assertEquals(0, alloc.stats().applicationBytes());
        }
    }
}
