package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import static io.cpuslab.core.TestSpans.span;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class HugePageSupportTest {

    @Test
    void onlyMadviseAndAlwaysModesTurnHugePagesOn() {
        assertTrue(HugePageSupport.fromKernel("always [madvise] never\n", "2097152\n").inUse());
        assertTrue(HugePageSupport.fromKernel("[always] madvise never\n", null).inUse());
        HugePageSupport never = HugePageSupport.fromKernel("always madvise [never]\n", "2097152\n");
        assertFalse(never.inUse());
        assertTrue(never.reason().contains("[never]"), never.reason());
        HugePageSupport none = HugePageSupport.fromKernel(null, null);
        assertFalse(none.inUse());
        assertTrue(none.reason().contains("no transparent huge pages"), none.reason());
    }

    @Test
    void hugePagesOfAnotherSizeTurnThemOff() {
        HugePageSupport big = HugePageSupport.fromKernel("always [madvise] never", "536870912");
        assertFalse(big.inUse());
        assertTrue(big.reason().contains("536870912"), big.reason());
    }

    @Test
    void offAndMemoryThatCannotAdviseSayWhy() {
        HugePageSupport off = HugePageSupport.decide(CpuSlab.HugePages.OFF, OsMemory.forThisPlatform());
        assertFalse(off.inUse());
        assertEquals("off: cpuslab.hugePages=OFF", off.reason());
        HugePageSupport arena = HugePageSupport.decide(CpuSlab.HugePages.AUTO, new ArenaMemory());
        assertFalse(arena.inUse());
        assertTrue(arena.reason().contains("cannot advise"), arena.reason());
    }

    /** On this machine's kernel: AUTO follows the THP mode it reports. */
    @Test
    void autoFollowsThisKernel() throws IOException {
        assumeTrue(MmapMemory.isSupported(), "not Linux with native access");
        HugePageSupport auto = HugePageSupport.decide(CpuSlab.HugePages.AUTO, OsMemory.forThisPlatform());
        boolean thp = Files.isReadable(HugePageSupport.ENABLED)
                && List.of("[madvise]", "[always]").stream().anyMatch(Files.readString(HugePageSupport.ENABLED)::contains);
        assertEquals(thp, auto.inUse(), auto.reason());
    }

    /** A hugepage-aware heap's regions carry the kernel's {@code hg} flag (MADV_HUGEPAGE); without, they do not. */
    @Test
    void regionsAreAdvisedHugePagesOnlyWhenInUse() {
        assumeTrue(HugePageSupport.decide(CpuSlab.HugePages.AUTO, OsMemory.forThisPlatform()).inUse(),
                "transparent huge pages are not available here");
        for (boolean hugePages : new boolean[] {true, false}) {
            PageHeap heap = new PageHeap(OsMemory.forThisPlatform(), new PageMap(), null, Long.MAX_VALUE, Long.MAX_VALUE,
                    false, hugePages);
            try {
                Span span = span(heap.allocate(1, 0));
                assertEquals(0, span.start() % PageHeap.HUGE_PAGE_BYTES, "the first span starts its region, on a hugepage");
                String flags = ProcessMemory.vmFlags(span.start());
                assertEquals(hugePages, List.of(flags.split(" ")).contains("hg"), "VmFlags: " + flags);
            } finally {
                heap.close();
            }
        }
    }
}
