package io.cpuslab.rseq;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Locale;

/**
 * The native files the jar carries under {@code META-INF/native/<platform>/}, copied out to a directory
 * the process can execute from, as Netty and other libraries with native parts do.
 *
 * <p>The directory is {@code -Dcpuslab.native.dir=DIR} if set, else {@code java.io.tmpdir}. Each copy is
 * private to its user (mode 0700) and is deleted as soon as it has been loaded or run: a loaded
 * library stays mapped after its file is gone, so nothing is left behind, even when the JVM dies.
 * Where the directory's file system is mounted {@code noexec} (a hardened {@code /tmp}), loading fails
 * with a message that says so and names the property to point elsewhere.
 *
 * <pre>{@code
 * Path library = NativeFiles.extract("libcpuslab_rseq.so");
 * try {
 *     SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
 * } finally {
 *     NativeFiles.delete(library);
 * }
 * }</pre>
 */
final class NativeFiles {
    /** The system property naming the extraction directory. */
    static final String DIRECTORY_PROPERTY = "cpuslab.native.dir";

    private NativeFiles() {
    }

    /** {@code linux-x86_64}, {@code linux-aarch64}, ...: the jar's directory for this JVM, or why there is none. */
    static String platform() throws IOException {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            throw new IOException("rseq is Linux only (os.name=" + os + ")");
        }
        String arch = System.getProperty("os.arch", "");
        return "linux-" + (arch.equals("amd64") ? "x86_64" : arch);
    }

    /**
     * Copies {@code META-INF/native/<platform>/<name>} to a new executable file in the extraction
     * directory; the caller deletes it once loaded or run.
     *
     * @throws IOException if the jar has no such file for this platform, or the directory is unusable
     */
    static Path extract(String name) throws IOException {
        String resource = "/META-INF/native/" + platform() + "/" + name;
        try (InputStream in = NativeFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("no " + name + " for " + platform() + " in this jar (" + resource
                        + "); x86-64 is built always, aarch64 where a cross compiler was installed, nothing else");
            }
            Path directory = directory();
            int dot = name.lastIndexOf('.');
            Path copy = Files.createTempFile(directory, dot > 0 ? name.substring(0, dot) + "-" : name + "-",
                    dot > 0 ? name.substring(dot) : "", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (var out = Files.newOutputStream(copy)) { // into the file made above: keeps its mode
                in.transferTo(out);
            } catch (IOException e) {
                delete(copy);
                throw e;
            }
            return copy;
        }
    }

    /** Deletes an extracted file; a file left behind is no reason to fail. */
    static void delete(Path file) {
        try {
            if (file != null) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // the copy is in a temporary directory: the system cleans it up
        }
    }

    /**
     * Why {@code file} could not be loaded or run, for the message: names the {@code noexec} mount when
     * that is the cause, or says nothing more ("") when it is not.
     */
    static String noexecHint(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        String mount = noexecMountOf(dir, readMounts());
        if (mount == null) {
            return "";
        }
        return " (" + (dir.toString().equals(mount) ? mount : dir + " is on " + mount + ", which is") + " mounted noexec: set -D"
                + DIRECTORY_PROPERTY + "=DIR to a directory that allows executing files)";
    }

    /** The mount point holding {@code dir} if it is mounted noexec, else null; {@code mounts} as in /proc/self/mounts. */
    static String noexecMountOf(Path dir, List<String> mounts) {
        String best = null;
        boolean noexec = false;
        for (String line : mounts) {
            String[] fields = line.split(" ");
            if (fields.length < 4) {
                continue;
            }
            String point = fields[1].replace("\\040", " ");
            if (dir.startsWith(point) && (best == null || point.length() > best.length())) {
                best = point;
                noexec = List.of(fields[3].split(",")).contains("noexec");
            }
        }
        return noexec ? best : null;
    }

    private static Path directory() throws IOException {
        String configured = System.getProperty(DIRECTORY_PROPERTY);
        Path dir = Path.of(configured != null ? configured : System.getProperty("java.io.tmpdir"));
        if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new IOException("cannot extract native files to " + dir + ": not a writable directory"
                    + (configured != null ? " (-D" + DIRECTORY_PROPERTY + ")" : " (set -D" + DIRECTORY_PROPERTY + "=DIR)"));
        }
        return dir;
    }

    private static List<String> readMounts() {
        try {
            return Files.readAllLines(Path.of("/proc/self/mounts"));
        } catch (IOException e) {
            return List.of();
        }
    }
}
