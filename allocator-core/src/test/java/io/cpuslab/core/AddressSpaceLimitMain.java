package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a forked JVM by {@link AllocatorContractTest}: {@code measure} prints the JVM's virtual size
 * once an allocator works; {@code exhaust}, started under {@code ulimit -v}, allocates 32 MiB blocks
 * until {@code mmap} fails, then checks the allocator keeps working: small blocks from what is mapped,
 * large ones again once blocks are freed. Prints {@code OK ...} and exits 0, or exits 1 saying what failed.
 *
 * <pre>{@code
 * bash -c 'ulimit -v 1300000; exec java -cp ... io.cpuslab.core.AddressSpaceLimitMain exhaust'
 * }</pre>
 */
public final class AddressSpaceLimitMain {
    static final long BLOCK = 32L << 20;

    private AddressSpaceLimitMain() {
    }

    public static void main(String[] args) throws Exception {
        try (OffHeapAllocator a = CpuSlab.builder().build()) {
            a.free(a.malloc(100));
            a.free(a.malloc(BLOCK));
            if (args[0].equals("measure")) {
                System.out.println("vmsize " + vmSizeBytes());
                return;
            }
            List<Long> blocks = new ArrayList<>();
            OutOfMemoryError refused = null;
            while (refused == null && blocks.size() < 10_000) {
                try {
                    long p = a.malloc(BLOCK);
                    MemorySegment.ofAddress(p).reinterpret(BLOCK).set(ValueLayout.JAVA_BYTE, BLOCK - 1, (byte) 1);
                    blocks.add(p);
                } catch (OutOfMemoryError e) {
                    refused = e;
                }
            }
            if (refused == null || !refused.getMessage().contains("mmap")) {
                fail("expected an OutOfMemoryError from mmap, got " + refused + " after " + blocks.size() + " blocks");
            }
            List<Long> small = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                small.add(a.malloc(100)); // from regions already mapped
            }
            small.forEach(a::free);
            int held = blocks.size();
            blocks.forEach(a::free);
            a.releaseMemory();
            for (int i = 0; i < held; i++) {
                blocks.set(i, a.malloc(BLOCK)); // the freed address space serves the same again
            }
            blocks.forEach(a::free);
            if (a.stats().applicationBytes() != 0) {
                fail("bytes still in use: " + a.stats());
            }
            System.out.println("OK " + held + " blocks of 32 MiB, then: " + refused.getMessage() + "; the same "
                    + held + " again after freeing");
        }
    }

    private static long vmSizeBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.substring(7).replace("kB", "").trim()) << 10;
            }
        }
        throw new IllegalStateException("no VmSize");
    }

    private static void fail(String why) {
        System.out.println("FAILED " + why);
        System.exit(1);
    }
}
