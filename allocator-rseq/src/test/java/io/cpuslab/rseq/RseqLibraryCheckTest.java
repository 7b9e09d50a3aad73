package io.cpuslab.rseq;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks every rseq_cs descriptor of the built libraries, the way TCMalloc's CriticalSectionMetadata
 * test does: in the files with readelf (section alignment, relocations, contents, the signature before
 * each abort handler) and in memory after loading (what the kernel will actually read).
 */
@RequiresRseq
class RseqLibraryCheckTest {
    /**
     * pop, push, push_batch, pop_batch, free_bulk, grow, probe_spin; overlay pop, push and re-cache; the
     * fast path's malloc and free for each of cpu_id, mm_cid and overlay.
     */
    private static final int SECTIONS = 16;
    /** The self-checking build adds the 6.19 simulation hook's section. */
    private static final int CHECK_SECTIONS = SECTIONS + 1;
    private static final int SIGNATURE = 0x53053053;
    /** Per built platform: the relocation type of absolute addresses and the abort signature. */
    private static final Map<String, Object[]> PLATFORMS = Map.of(
            "linux-x86_64", new Object[] {"R_X86_64_RELATIVE", 0x53053053},
            "linux-aarch64", new Object[] {"R_AARCH64_RELATIVE", 0xd428bc00});

    private static String readelf(Path library, String... options) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("readelf", "-W"));
        command.addAll(List.of(options));
        command.add(library.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    /** Columns of a section header line: name, type, address, offset, size, entry size, flags, ..., alignment. */
    private static String[] section(String headers, String name) {
        for (String line : headers.split("\n")) {
            String body = line.replaceFirst("^\\s*\\[\\s*\\d+\\]\\s*", "");
            if (body.startsWith(name + " ")) {
                return body.trim().split("\\s+");
            }
        }
        throw new AssertionError("no section " + name + " in\n" + headers);
    }

    @Test
    void everyDescriptorInTheBuiltFilesIsAlignedAndWellFormed() throws Exception {
        assumeTrue(ForkedJvm.onPath("readelf"), "readelf (binutils) is not installed: file check skipped");
        int checked = 0;
        // The libraries live in target/classes, the test helpers in target/test-classes: look in both.
        for (java.net.URL root : java.util.Collections.list(getClass().getClassLoader().getResources("META-INF/native"))) {
            Path natives = Path.of(root.toURI());
            for (Map.Entry<String, Object[]> platform : PLATFORMS.entrySet()) {
                for (String name : List.of("libcpuslab_rseq.so", "libcpuslab_rseq_check.so")) {
                    Path lib = natives.resolve(platform.getKey()).resolve(name);
                    if (Files.exists(lib)) {
                        checkFile(lib, name.contains("_check") ? CHECK_SECTIONS : SECTIONS,
                                (String) platform.getValue()[0], (int) platform.getValue()[1]);
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked >= 2, "the host's libraries were built and checked");
    }

    private static void checkFile(Path lib, int sections, String relocationType, int signature) throws Exception {
        String name = lib.getParent().getFileName() + "/" + lib.getFileName();
        String headers = readelf(lib, "-S");
        String[] cs = section(headers, "__rseq_cs");
        long address = Long.parseLong(cs[2], 16);
        long size = Long.parseLong(cs[4], 16);
        assertEquals("32", cs[cs.length - 1], name + ": __rseq_cs must be 32-byte aligned");
        assertTrue(cs[6].contains("A"), name + ": __rseq_cs must be allocated");
        assertEquals(sections * 32L, size, name + ": one 32-byte descriptor per critical section");
        assertEquals(0, address % 32);

        byte[] contents = hexDump(readelf(lib, "-x", "__rseq_cs"), size);
        Map<Long, Long> relative = relocations(readelf(lib, "-r"), relocationType);
        String[] text = section(headers, ".text");
        long textAddress = Long.parseLong(text[2], 16), textOffset = Long.parseLong(text[3], 16);
        byte[] file = Files.readAllBytes(lib);
        ByteBuffer le = ByteBuffer.wrap(contents).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < sections; i++) {
            long d = address + 32L * i;
            assertEquals(0, le.getInt(32 * i), name + ": version of descriptor " + i);
            assertEquals(0, le.getInt(32 * i + 4), name + ": flags of descriptor " + i);
            long postCommit = le.getLong(32 * i + 16);
            assertTrue(postCommit > 0 && postCommit < 4096, name + ": post_commit_offset " + postCommit);
            Long start = relative.get(d + 8), abort = relative.get(d + 24);
            assertNotNull(start, name + ": start_ip of descriptor " + i + " is relocated");
            assertNotNull(abort, name + ": abort_ip of descriptor " + i + " is relocated");
            assertTrue(abort < start || abort >= start + postCommit, name + ": abort_ip outside the section");
            int before = ByteBuffer.wrap(file, (int) (abort - 4 - textAddress + textOffset), 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            assertEquals(signature, before, name + ": signature before abort handler " + i);
        }
    }

    @Test
    void theShippedNativeDirectoryHasNoSelfCheckingBuildAndNoTestHooks() throws Exception {
        assumeTrue(ForkedJvm.onPath("readelf"), "readelf (binutils) is not installed: file check skipped");
        // Where RseqLibrary's own class comes from: the module's output, what its jar packs.
        Path shipped = Path.of(RseqLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI()).resolve("META-INF/native");
        int checked = 0;
        for (String platform : PLATFORMS.keySet()) {
            Path dir = shipped.resolve(platform);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (var files = Files.list(dir)) {
                List<String> names = files.map(f -> f.getFileName().toString()).sorted().toList();
                assertEquals(List.of("cpuslab_overlay_probe", "libcpuslab_rseq.so"), names, platform);
            }
            String symbols = readelf(dir.resolve("libcpuslab_rseq.so"), "--dyn-syms");
            assertTrue(symbols.contains("cpuslab_rseq_malloc_cpu_id"), platform + ": the symbol table was read");
            assertTrue(!symbols.contains("cpuslab_rseq_test_") && !symbols.contains("inject_loops"),
                    platform + ": a test hook is exported by the shipped library");
            checked++;
        }
        assertTrue(checked >= 1, "the host's library was built");
    }

    @Test
    void loadedDescriptorsPointAtSignedAbortHandlersOutsideTheirSections() {
        assertEquals(null, RseqLibrary.UNAVAILABLE);
        MemorySegment descriptors = RseqLibrary.descriptors();
        assertEquals(CHECK_SECTIONS * 32L, descriptors.byteSize(), "the tests load the self-checking build");
        assertEquals(0, descriptors.address() % 32);
        for (int i = 0; i < CHECK_SECTIONS; i++) {
            long base = 32L * i;
            assertEquals(0, descriptors.get(ValueLayout.JAVA_INT, base), "version");
            assertEquals(0, descriptors.get(ValueLayout.JAVA_INT, base + 4), "flags");
            long start = descriptors.get(ValueLayout.JAVA_LONG, base + 8);
            long postCommit = descriptors.get(ValueLayout.JAVA_LONG, base + 16);
            long abort = descriptors.get(ValueLayout.JAVA_LONG, base + 24);
            assertTrue(start != 0 && postCommit > 0 && postCommit < 4096);
            assertTrue(abort < start || abort >= start + postCommit);
            int signature = MemorySegment.ofAddress(abort - 4).reinterpret(4).get(ValueLayout.JAVA_INT_UNALIGNED, 0);
            assertEquals(RseqLibrary.signature(), signature);
            assertEquals(SIGNATURE, signature);
        }
    }

    /** Bytes of a `readelf -x` dump: lines "  0xADDR w0 w1 w2 w3 text", each word 4 bytes in memory order. */
    private static byte[] hexDump(String dump, long size) {
        ByteBuffer bytes = ByteBuffer.allocate((int) size);
        for (String line : dump.split("\n")) {
            String trimmed = line.trim();
            if (!trimmed.startsWith("0x")) {
                continue;
            }
            String[] words = trimmed.split("\\s+");
            for (int w = 1; w < words.length && w <= 4 && words[w].matches("[0-9a-f]{2,8}"); w++) {
                for (int b = 0; b + 2 <= words[w].length(); b += 2) {
                    bytes.put((byte) Integer.parseInt(words[w].substring(b, b + 2), 16));
                }
            }
        }
        assertEquals(size, bytes.position(), "whole section dumped");
        return bytes.array();
    }

    /** Offset -> addend of every relocation of the given (relative) type. */
    private static Map<Long, Long> relocations(String listing, String type) {
        Map<Long, Long> map = new HashMap<>();
        for (String line : listing.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[2].equals(type)) {
                map.put(Long.parseLong(f[0], 16), Long.parseLong(f[f.length - 1], 16));
            }
        }
        return map;
    }
}
