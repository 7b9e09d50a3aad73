package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

/**
 * For a JVM started with glibc's rseq off: a thread for which another library registered its own rseq
 * area cannot be registered by cpuslab (the kernel says EINVAL). It must still allocate and free
 * correctly, through the slow path, and never see an exception.
 */
final class ForeignRegistrationCheck {
    private ForeignRegistrationCheck() {
    }

    public static void main(String[] args) throws Exception {
        try (OffHeapAllocator allocator = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build()) {
            Throwable[] failure = new Throwable[1];
            int[] foreign = new int[1];
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    foreign[0] = (int) RseqTestLibrary.REGISTER_FOREIGN_AREA.invokeExact();
                    long[] blocks = new long[100];
                    for (int round = 0; round < 1000; round++) {
                        for (int i = 0; i < blocks.length; i++) {
                            blocks[i] = allocator.malloc(16 + i);
                        }
                        for (long b : blocks) {
                            allocator.free(b);
                        }
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            t.join();
            if (foreign[0] != 0 || failure[0] != null) {
                System.out.println("FAILED: foreign registration errno " + foreign[0]);
                if (failure[0] != null) {
                    failure[0].printStackTrace(System.out);
                }
                System.exit(1);
            }
            System.out.println("FOREIGN REGISTRATION OK: " + allocator.stats().applicationBytes() + " bytes in use");
        }
    }
}
