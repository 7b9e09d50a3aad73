package io.cpuslab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ResourceLock("system-properties")
class CpuSlabBuilderTest {

    @Test
    void sizesAcceptUnitSuffixes() {
        assertEquals(123, CpuSlab.Builder.parseSize("123"));
        assertEquals(64 << 10, CpuSlab.Builder.parseSize("64k"));
        assertEquals(512L << 20, CpuSlab.Builder.parseSize(" 512M "));
        assertEquals(2L << 30, CpuSlab.Builder.parseSize("2g"));
        assertEquals(-1, CpuSlab.Builder.parseSize("lots"));
        assertEquals(-1, CpuSlab.Builder.parseSize("-5"));
    }

    @Test
    void badPropertyValuesAreNamedInTheError() {
        System.setProperty("cpuslab.frontEnd", "FASTEST");
        try {
            var e = assertThrows(IllegalArgumentException.class, CpuSlab::builder);
            assertTrue(e.getMessage().contains("cpuslab.frontEnd") && e.getMessage().contains("FASTEST"), e.getMessage());
        } finally {
            System.clearProperty("cpuslab.frontEnd");
        }
        System.setProperty("cpuslab.memoryLimit", "12x");
        try {
            var e = assertThrows(IllegalArgumentException.class, CpuSlab::builder);
            assertTrue(e.getMessage().contains("cpuslab.memoryLimit") && e.getMessage().contains("12x"), e.getMessage());
        } finally {
            System.clearProperty("cpuslab.memoryLimit");
        }
    }

    @Test
    void badBuilderValuesAreRejectedAtOnce() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuSlab.builder().perCpuCacheBytes(0));
        assertTrue(e.getMessage().contains("perCpuCacheBytes"));
        assertThrows(IllegalArgumentException.class, () -> CpuSlab.builder().releaseRate(-1));
        assertThrows(NullPointerException.class, () -> CpuSlab.builder().frontEnd(null));
    }
}
