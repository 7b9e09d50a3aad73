package io.cpuslab.rseq;

import io.cpuslab.core.NativePageMap;
import io.cpuslab.core.SizeClasses;
import io.cpuslab.core.SlabLayout;

import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The constants this jar shares with the native library, each written once per language: here they come
 * from where Java defines them (the descriptor's {@link RseqFrontEnd#DESCRIPTOR}, {@link SlabLayout},
 * {@link NativePageMap}, {@link SizeClasses}, the status and probe codes of {@link RseqLibrary}); the
 * library reports its own by name ({@code cpuslab_rseq_constants}). A library that differs in any of them
 * was built from another version of {@code cpuslab_rseq.h} and is refused before it runs a section.
 *
 * <pre>{@code
 * String why = LibraryContract.mismatch(Map.of("DESC_SIZE", 240L, ...)); // "DESC_SIZE is 240 in the library, 224 in this jar; ..."
 * }</pre>
 */
final class LibraryContract {
    private LibraryContract() {
    }

    /** Every shared constant with this jar's value. */
    static Map<String, Long> expected() {
        Map<String, Long> c = new LinkedHashMap<>();
        c.put("RSEQ_CPU_ID_OFFSET", (long) RseqFrontEnd.CPU_ID);
        c.put("RSEQ_MM_CID_OFFSET", (long) RseqFrontEnd.MM_CID);
        c.put("SLAB_SHIFT", (long) SlabLayout.SHIFT);
        c.put("SLAB_STOP_OFFSET", (long) SlabLayout.STOP_OFFSET);
        c.put("SLAB_HINT_OFFSET", (long) SlabLayout.HINT_OFFSET);
        c.put("SLAB_HEADER_OFFSET", (long) SlabLayout.HEADER_OFFSET);
        for (MemoryLayout field : RseqFrontEnd.DESCRIPTOR.memberLayouts()) {
            field.name().ifPresent(name -> c.put(name, RseqFrontEnd.DESCRIPTOR.byteOffset(MemoryLayout.PathElement.groupElement(name))));
        }
        c.put("DESC_SIZE", RseqFrontEnd.DESCRIPTOR.byteSize());
        c.put("PAGE_SHIFT", (long) SizeClasses.PAGE_SHIFT);
        c.put("PAGE_MAP_LEAF_BITS", (long) NativePageMap.LEAF_BITS);
        c.put("PAGE_MAP_HINT_KEY", NativePageMap.HINT_KEY);
        c.put("PAGE_MAP_HINT_LEAF", NativePageMap.HINT_LEAF);
        c.put("PAGE_MAP_ROOT", NativePageMap.ROOT);
        c.put("PAGE_MAP_ROOT_ENTRIES", (long) NativePageMap.ROOT_ENTRIES);
        c.put("PAGE_MAP_ENTRY_INDEX_SHIFT", (long) NativePageMap.INDEX_SHIFT);
        c.put("CLASS_COUNT", (long) SizeClasses.COUNT);
        c.put("MAX_SMALL_SIZE", (long) SizeClasses.MAX_SIZE);
        c.putAll(RseqLibrary.CODES);
        return c;
    }

    /** Null if {@code library} agrees with {@link #expected()} on every constant, else every difference. */
    static String mismatch(Map<String, Long> library) {
        StringBuilder why = new StringBuilder();
        expected().forEach((name, value) -> {
            Long theirs = library.get(name);
            if (!value.equals(theirs)) {
                why.append(why.isEmpty() ? "" : "; ").append(name)
                        .append(theirs == null ? " is missing from the library" : " is " + theirs + " in the library")
                        .append(", ").append(value).append(" in this jar");
            }
        });
        return why.isEmpty() ? null : "the native library was built for another layout: " + why;
    }
}
