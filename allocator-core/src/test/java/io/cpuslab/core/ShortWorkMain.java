package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Run by the JFR and JMX tests in a JVM of its own: makes one unnamed allocator (front end from
 * {@code -Dcpuslab.frontEnd}, a 4 MiB soft and a 64 MiB hard limit), runs every slow operation that has a
 * JFR event (page heap growth, a soft limit hit and its release, a refused request, drains and
 * {@code releaseMemory}'s release), closes it, and prints {@code OK} and the front end.
 */
public final class ShortWorkMain {
    private ShortWorkMain() {
    }

    /**
     * Runs this main on {@code frontEnd} in a JVM of its own started with {@code jvmOptions}, and returns
     * what that JVM wrote; fails unless the work ran to its end ({@code OK}, exit 0).
     */
    static String run(CpuSlab.FrontEnd frontEnd, String... jvmOptions) throws IOException, InterruptedException {
        List<String> options = new ArrayList<>(List.of(jvmOptions));
        options.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Dcpuslab.frontEnd=" + frontEnd));
        ForkedJvm.Result r = ForkedJvm.run(List.of(), Map.of(), options, ShortWorkMain.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.verdict().startsWith("OK"), r.output());
        return r.output();
    }

    /**
     * {@link #run} in a runtime that resolves only {@code modules} (as a jlinked image without the others
     * would), with the {@code DEBUG} log on: cpuslab logs there what it goes without.
     */
    static String runWithModulesOnly(String modules, CpuSlab.FrontEnd frontEnd) throws IOException, InterruptedException {
        return run(frontEnd, "--limit-modules", modules, "-Djdk.system.logger.level=DEBUG");
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
