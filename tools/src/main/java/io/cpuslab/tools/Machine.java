package io.cpuslab.tools;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The line that names the machine a result comes from: CPU model, cores, kernel, JDK.
 *
 * <pre>{@code
 * System.out.println(Machine.describe());
 * // AMD EPYC 7B13, 2 cores, Linux 6.18.44 amd64, Temurin 25.0.3+9-LTS
 * }</pre>
 */
public final class Machine {
    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private Machine() {
    }

    public static String describe() {
        return cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch")
                + ", " + System.getProperty("java.vm.vendor") + " " + Runtime.version();
    }

    /** The first {@code model name} of /proc/cpuinfo, or what the JDK says the architecture is. */
    public static String cpuModel() {
        try {
            Optional<String> model = Files.readAllLines(CPUINFO).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst();
            return model.orElse("unknown CPU (" + System.getProperty("os.arch") + ")");
        } catch (IOException e) {
            return "unknown CPU (" + System.getProperty("os.arch") + ", no " + CPUINFO + ")";
        }
    }
}
