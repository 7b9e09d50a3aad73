package io.cpuslab.jcstress;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a resumable run is: its mode, JCStress arguments, Java version and the SHA-256 of every jar on
 * the class path, written as {@code run.txt} in the report directory by the run that starts it. A run
 * started again into the same directory goes on from where it stopped only if it is the same run;
 * results of another build or mode are never mixed into one report.
 *
 * <pre>String mismatch = RunRecord.claim(Path.of("jcstress-report"), "tough", List.of("-sc", "false"));</pre>
 */
final class RunRecord {
    static final String FILE = "run.txt";

    private RunRecord() {
    }

    /**
     * Writes the record into {@code reports} if it has none; returns null when the directory is (now)
     * this run's, or the reason it belongs to another.
     */
    static String claim(Path reports, String mode, List<String> extra) throws IOException {
        List<String> record = describe(mode, extra);
        Path file = reports.resolve(FILE);
        if (!Files.exists(file)) {
            Files.createDirectories(reports);
            Files.write(file, record);
            return null;
        }
        List<String> found = Files.readAllLines(file);
        if (found.equals(record)) {
            return null;
        }
        return reports + " holds results of another run (its " + FILE + " differs: " + found + " vs " + record
                + "); give a new report directory, or delete that one to start over";
    }

    private static List<String> describe(String mode, List<String> extra) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("mode " + mode);
        lines.add("arguments " + String.join(" ", extra));
        lines.add("java " + Runtime.version());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            lines.add(Files.isRegularFile(path) ? "jar " + path.getFileName() + " sha256 " + sha256(path) : "classes " + path.toAbsolutePath());
        }
        return lines;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
