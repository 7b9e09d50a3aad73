package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Run in a forked JVM by {@link AllocatorContractTest}: allocates a guarded block (sample rate 1),
 * prints where its guard page is, then writes one byte past its usable size. The JVM is expected to die
 * of the fault; if the write returns, it prints {@code NO FAULT} and exits 0.
 *
 * <pre>{@code
 * java -cp ... io.cpuslab.core.GuardPageMain
 * }</pre>
 */
public final class GuardPageMain {
    private GuardPageMain() {
    }

    public static void main(String[] args) {
        OffHeapAllocator a = CpuSlab.builder().guardSampleRate(1).build();
        long p = a.malloc(100);
        long usable = a.usableSize(p);
        System.out.println("guard page 0x" + Long.toHexString(p + usable));
        System.out.flush();
        MemorySegment.ofAddress(p).reinterpret(usable + 1).set(ValueLayout.JAVA_BYTE, usable, (byte) 1);
        System.out.println("NO FAULT");
    }
}
