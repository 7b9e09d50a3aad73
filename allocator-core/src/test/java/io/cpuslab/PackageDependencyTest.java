package io.cpuslab;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.spi.ToolProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies point one way: the back end ({@code io.cpuslab.core}) implements the API, and the API
 * package names none of its classes ({@link CpuSlab} finds it as a {@link CpuSlab.Backend} service).
 * Checked with the JDK's {@code jdeps} on the compiled classes.
 */
class PackageDependencyTest {
    @Test
    void theApiPackageNamesNoClassOfTheBackEnd() throws Exception {
        Path classes = Path.of(CpuSlab.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow();
        StringWriter out = new StringWriter();
        int code = jdeps.run(new PrintWriter(out), new PrintWriter(out), "-verbose:package", "--ignore-missing-deps", classes.toString());
        assertEquals(0, code, out.toString());
        List<String> edges = out.toString().lines().map(String::trim).filter(l -> l.matches("io\\.cpuslab(\\.core)?\\s+->\\s+io\\.cpuslab.*")).toList();
        assertTrue(edges.stream().anyMatch(l -> l.matches("io\\.cpuslab\\.core\\s+->\\s+io\\.cpuslab\\s.*")), "the back end uses the API: " + edges);
        assertTrue(edges.stream().noneMatch(l -> l.startsWith("io.cpuslab ")), "the API depends on nothing of its own back end: " + edges);
    }
}
