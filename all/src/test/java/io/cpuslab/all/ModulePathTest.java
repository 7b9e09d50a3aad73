package io.cpuslab.all;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * cpuslab's three library modules on the module path, with native access granted to those two modules
 * only and every other native access denied: the same front end as on the class path, no warning, and
 * the back end out of the application's reach.
 */
class ModulePathTest {
    private static final String MODULES = "io.cpuslab,io.cpuslab.rseq";

    @Test
    void onTheModulePathNativeAccessForCpuslabsModulesGivesTheClassPathsFrontEndWithNoWarning() throws Exception {
        Run classPath = java("--enable-native-access=ALL-UNNAMED", "-cp", String.join(File.pathSeparator, libraries()) + File.pathSeparator + tests(),
                PrintFrontEnd.class.getName());
        Run modulePath = onModulePath(MODULES);
        assertEquals(0, classPath.exit(), classPath.output());
        assertEquals(0, modulePath.exit(), modulePath.output());
        assertEquals(frontEnd(classPath), frontEnd(modulePath), modulePath.output());
        assertFalse(modulePath.output().contains("WARNING"), modulePath.output());
        assertTrue(modulePath.output().contains("INTERNALS: unreachable"), "io.cpuslab.core is exported to the front ends only: " + modulePath.output());
        assertTrue(classPath.output().contains("INTERNALS: reachable"), "the class path has no module boundary: " + classPath.output());
    }

    @Test
    void withoutTheRseqModulesAccessTheRseqFrontEndIsRefused() throws Exception {
        Run full = onModulePath(MODULES);
        Run coreOnly = onModulePath("io.cpuslab");
        assertEquals(0, coreOnly.exit(), coreOnly.output());
        if (frontEnd(full).startsWith("rseq")) {
            assertNotEquals(frontEnd(full), frontEnd(coreOnly), "the check above can fail: " + coreOnly.output());
            assertTrue(coreOnly.output().contains("Illegal native access"), coreOnly.output());
        } else {
            System.out.println("SKIPPED the refusal check: rseq does not run here (" + frontEnd(full) + ")");
        }
    }

    private static Run onModulePath(String nativeAccess) throws Exception {
        return java("--illegal-native-access=deny", "--enable-native-access=" + nativeAccess,
                "-p", String.join(File.pathSeparator, libraries()), "--add-modules", "io.cpuslab",
                "-cp", tests(), PrintFrontEnd.class.getName());
    }

    /** The allocator's own class directories or jars from this test's class path (not their tests). */
    private static List<String> libraries() {
        List<String> found = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> e.matches(".*allocator-(core|rseq|fallback)[^" + File.separator + "]*(" + File.separator + "target" + File.separator
                        + "classes|-[^" + File.separator + "]*\\.jar)$"))
                .filter(e -> !e.endsWith("-tests.jar"))
                .toList();
        assertEquals(3, found.size(), "core, rseq and fallback on the class path: " + found);
        return found;
    }

    private static String tests() throws Exception {
        return Path.of(PrintFrontEnd.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    private static String frontEnd(Run run) {
        return run.output().lines().filter(l -> l.startsWith("FRONT END: ")).findFirst()
                .map(l -> l.substring("FRONT END: ".length())).orElse("none: " + run.output());
    }

    private record Run(int exit, String output) {
    }

    private static Run java(String... arguments) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(arguments));
        Path out = Files.createTempFile("cpuslab-module-path", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the JVM finished");
            return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
