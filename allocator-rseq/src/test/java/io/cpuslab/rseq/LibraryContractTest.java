package io.cpuslab.rseq;

import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LibraryContractTest {
    @Test
    void theBuiltLibraryReportsEveryConstantThisJarSharesWithTheSameValue() throws Throwable {
        assumeTrue(RseqLibrary.LOOKUP != null, () -> "the native library did not load here: " + RseqLibrary.UNAVAILABLE);
        Map<String, Long> library = RseqLibrary.constants(Linker.nativeLinker().downcallHandle(
                RseqLibrary.LOOKUP.findOrThrow("cpuslab_rseq_constants"), FunctionDescriptor.of(ADDRESS, ADDRESS)));
        assertNull(LibraryContract.mismatch(library));
        assertTrue(library.keySet().containsAll(LibraryContract.expected().keySet()));
        assertEquals(224L, library.get("DESC_SIZE"), "the descriptor the sections read");
    }

    @Test
    void aLibraryThatDiffersIsRefusedNamingEveryDifference() {
        Map<String, Long> library = new HashMap<>(LibraryContract.expected());
        library.put("DESC_PAGE_MAP", 220L);
        library.remove("PAGE_MAP_LEAF_BITS");
        library.put("SOMETHING_NEW", 1L); // a newer library may say more: only what the jar shares counts
        assertEquals("the native library was built for another layout: DESC_PAGE_MAP is 220 in the library, 216 in this jar; "
                + "PAGE_MAP_LEAF_BITS is missing from the library, 18 in this jar", LibraryContract.mismatch(library));
    }

    @Test
    void theDescriptorLayoutIsTheOneTheSectionsRead() {
        var expected = LibraryContract.expected();
        assertEquals(0L, expected.get("DESC_BASE"));
        assertEquals(8L, expected.get("DESC_NSLABS"));
        assertEquals(16L, expected.get("DESC_BEGIN"));
        assertEquals(208L, expected.get("DESC_SLAB_BYTES"));
        assertEquals(216L, expected.get("DESC_PAGE_MAP"));
        assertEquals(224L, expected.get("DESC_SIZE"));
    }
}
