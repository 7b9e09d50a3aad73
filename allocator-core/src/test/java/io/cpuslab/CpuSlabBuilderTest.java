package io.cpuslab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
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
        assertMessage("softMemoryLimit", () -> CpuSlab.builder().softMemoryLimit(0));
        assertMessage("idleDrainMillis", () -> CpuSlab.builder().idleDrainMillis(-1));
        assertMessage("maintenancePeriodMillis", () -> CpuSlab.builder().maintenancePeriodMillis(0));
        assertMessage("guardSampleRate", () -> CpuSlab.builder().guardSampleRate(-1));
    }

    @Test
    void reliabilityPropertiesReachTheConfiguration() {
        String[][] properties = {{"softMemoryLimit", "256m"}, {"idleDrainMillis", "5000"},
                {"maintenancePeriodMillis", "250"}, {"guardSampleRate", "1000"}};
        for (String[] p : properties) {
            System.setProperty("cpuslab." + p[0], p[1]);
        }
        try {
            var config = CpuSlab.builder().settings();
            assertEquals(256L << 20, config.softMemoryLimit());
            assertEquals(5000, config.idleDrainMillis());
            assertEquals(250, config.maintenancePeriodMillis());
            assertEquals(1000, config.guardSampleRate());
            System.setProperty("cpuslab.maintenancePeriodMillis", "0");
            assertMessage("cpuslab.maintenancePeriodMillis", CpuSlab::builder);
        } finally {
            for (String[] p : properties) {
                System.clearProperty("cpuslab." + p[0]);
            }
        }
    }

    @Test
    void namesAreCheckedAtOnceAndReachTheConfiguration() {
        assertNull(CpuSlab.builder().settings().name(), "unnamed: the allocator numbers itself");
        assertEquals("orders-1.a_b", CpuSlab.builder().name("orders-1.a_b").settings().name());
        assertMessage("name", () -> CpuSlab.builder().name("a,b"));
        assertMessage("name", () -> CpuSlab.builder().name(""));
        assertThrows(NullPointerException.class, () -> CpuSlab.builder().name(null));
    }

    @Test
    void jmxIsOnUnlessThePropertyOrTheBuilderTurnsItOff() {
        assertTrue(CpuSlab.builder().settings().jmx());
        assertFalse(CpuSlab.builder().jmx(false).settings().jmx());
        System.setProperty("cpuslab.jmx", " FALSE ");
        try {
            assertFalse(CpuSlab.builder().settings().jmx());
            assertTrue(CpuSlab.builder().jmx(true).settings().jmx(), "the builder wins over the property");
            System.setProperty("cpuslab.jmx", "no");
            assertMessage("cpuslab.jmx", CpuSlab::builder);
        } finally {
            System.clearProperty("cpuslab.jmx");
        }
    }

    @Test
    void hugePagesDefaultToAutoAndFollowThePropertyAndTheBuilder() {
        String given = System.getProperty("cpuslab.hugePages"); // a run of the suites with -Dcpuslab.hugePages=OFF
        System.clearProperty("cpuslab.hugePages");
        try {
            assertEquals(CpuSlab.HugePages.AUTO, CpuSlab.builder().settings().hugePages());
            System.setProperty("cpuslab.hugePages", "off");
            assertEquals(CpuSlab.HugePages.OFF, CpuSlab.builder().settings().hugePages());
            assertEquals(CpuSlab.HugePages.AUTO, CpuSlab.builder().hugePages(CpuSlab.HugePages.AUTO).settings().hugePages());
            System.setProperty("cpuslab.hugePages", "sometimes");
            assertMessage("cpuslab.hugePages", CpuSlab::builder);
        } finally {
            if (given == null) {
                System.clearProperty("cpuslab.hugePages");
            } else {
                System.setProperty("cpuslab.hugePages", given);
            }
        }
        assertThrows(NullPointerException.class, () -> CpuSlab.builder().hugePages(null));
    }

    private static void assertMessage(String part, Runnable call) {
        var e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
