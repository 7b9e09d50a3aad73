package io.cpuslab.rseq;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Core's {@link io.cpuslab.core.ForkedJvm} with what every JVM of the rseq tests needs: native access
 * and the self-checking library.
 */
final class ForkedJvm {
    private ForkedJvm() {
    }

    static io.cpuslab.core.ForkedJvm.Result run(List<String> prefix, Map<String, String> environment, List<String> jvmOptions,
                                                Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Dcpuslab.rseq.selfCheck=true"));
        options.addAll(jvmOptions);
        return io.cpuslab.core.ForkedJvm.run(prefix, environment, options, main, args);
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
