package io.cpuslab.core;

import io.cpuslab.AllocatorMXBean;
import io.cpuslab.AllocatorStats;
import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;
import java.lang.management.ManagementFactory;
import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each allocator's {@link AllocatorMXBean} as a JMX client sees it, through the platform MBean server:
 * registered under its name while it lives, attributes equal to its {@code stats()}, gone after
 * {@code close()}; and JMX never decides whether an allocator can be made. Each front-end module runs it
 * with a subclass that names its front end.
 */
public abstract class AllocatorMXBeanTest {
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final TestAllocators allocators = new TestAllocators();

    /** The front end under test. */
    protected abstract CpuSlab.FrontEnd frontEnd();

    private OffHeapAllocator allocator(AllocatorConfig config) {
        return allocators.create(config);
    }

    private OffHeapAllocator named(String name) {
        return allocator(AllocatorConfig.defaults(frontEnd()).withName(name));
    }

    private static ObjectName objectName(String name) throws Exception {
        return new ObjectName(AllocatorMXBean.TYPE + ",name=" + name);
    }

    @AfterEach
    void closeAll() {
        allocators.close();
    }

    @Test
    void attributesAreTheAllocatorsStatsAndFrontEnd() throws Exception {
        OffHeapAllocator a = named("jmx-attributes");
        for (int i = 0; i < 100; i++) {
            a.malloc(100);
        }
        a.malloc(1 << 20);
        ObjectName name = objectName("jmx-attributes");
        AllocatorStats s = a.stats();

        int numbers = 0;
        for (RecordComponent c : AllocatorStats.class.getRecordComponents()) {
            if (c.getType() == long.class) {
                String attribute = Character.toUpperCase(c.getName().charAt(0)) + c.getName().substring(1);
                assertEquals(c.getAccessor().invoke(s), server.getAttribute(name, attribute), attribute);
                numbers++;
            }
        }
        assertEquals(11, numbers, "every number of AllocatorStats is an attribute");
        assertEquals(s.cachedBytes(), server.getAttribute(name, "CachedBytes"));
        assertEquals(s.residentBytes(), server.getAttribute(name, "ResidentBytes"));
        assertTrue(s.applicationBytes() >= 100 * 100 + (1 << 20), "the blocks held are in the numbers");
        assertEquals(a.frontEnd().toString(), server.getAttribute(name, "FrontEnd"));

        // The rows are open data, as JConsole shows them; a typed proxy rebuilds the records.
        CompositeData[] classes = (CompositeData[]) server.getAttribute(name, "Classes");
        assertEquals(s.classes().size(), classes.length);
        assertEquals((long) s.classes().getFirst().applicationObjects(), classes[0].get("applicationObjects"));
        CompositeData[] slabs = (CompositeData[]) server.getAttribute(name, "Slabs");
        assertEquals(s.slabs().size(), slabs.length);
        AllocatorMXBean proxy = JMX.newMXBeanProxy(server, name, AllocatorMXBean.class);
        assertEquals(s.classes(), proxy.getClasses());
        assertEquals(s.slabs(), proxy.getSlabs());
        CompositeData hugePages = (CompositeData) server.getAttribute(name, "HugePages");
        assertEquals(s.hugePages().inUse(), hugePages.get("inUse"));
        assertEquals(s.hugePages().full(), hugePages.get("full"));
        assertEquals(s.hugePages(), proxy.getHugePages());

        // The whole snapshot as one attribute: its parts make up the mapped bytes, as stats()' do.
        CompositeData whole = (CompositeData) server.getAttribute(name, "Stats");
        assertEquals(s.applicationBytes(), whole.get("applicationBytes"));
        long parts = 0;
        for (String part : List.of("applicationBytes", "cpuCacheBytes", "transferCacheBytes", "centralCacheBytes",
                "spanOverheadBytes", "pageHeapFreeBytes", "releasedBytes", "metadataBytes")) {
            parts += (Long) whole.get(part);
        }
        assertEquals(whole.get("mappedBytes"), parts, "one snapshot's parts make up its mapped bytes");
        assertEquals(s, proxy.getStats());
    }

    @Test
    void closeUnregistersTheBean() throws Exception {
        OffHeapAllocator a = named("jmx-close");
        assertTrue(server.isRegistered(objectName("jmx-close")));
        a.close();
        assertFalse(server.isRegistered(objectName("jmx-close")));
    }

    /** The second of two allocators with one name works without a bean, and its close leaves the first's alone. */
    @Test
    void aTakenNameLeavesTheAllocatorWorkingWithoutABean() throws Exception {
        OffHeapAllocator first = named("jmx-twice");
        OffHeapAllocator second = named("jmx-twice");
        second.free(second.malloc(64));
        first.malloc(1 << 20);
        long firstInUse = first.stats().applicationBytes();
        assertNotEquals(firstInUse, second.stats().applicationBytes());
        assertEquals(firstInUse, server.getAttribute(objectName("jmx-twice"), "ApplicationBytes"), "the bean is the first's");
        second.close();
        assertEquals(firstInUse, server.getAttribute(objectName("jmx-twice"), "ApplicationBytes"), "still the first's");
    }

    @Test
    void jmxOffRegistersNothing() throws Exception {
        allocator(AllocatorConfig.defaults(frontEnd()).withName("jmx-off").withJmx(false));
        assertFalse(server.isRegistered(objectName("jmx-off")));
    }

    @Test
    void allocatorsWithoutANameAreNumbered() throws Exception {
        Set<ObjectName> before = server.queryNames(new ObjectName(AllocatorMXBean.TYPE + ",*"), null);
        OffHeapAllocator a = allocator(AllocatorConfig.defaults(frontEnd()));
        Set<ObjectName> added = new HashSet<>(server.queryNames(new ObjectName(AllocatorMXBean.TYPE + ",*"), null));
        added.removeAll(before);
        assertEquals(1, added.size(), added.toString());
        ObjectName name = added.iterator().next();
        assertTrue(name.getKeyProperty("name").matches("[1-9][0-9]*"), name.toString());
        a.malloc(4096);
        assertEquals(a.stats().applicationBytes(), server.getAttribute(name, "ApplicationBytes"));
    }

    /**
     * Without the {@code java.management} module (a jlinked runtime, or a module path that does not resolve
     * it) an allocator is made and works, and the {@code DEBUG} log says there is no bean.
     */
    @Test
    void withoutJavaManagementAllocatorsStillWork() throws Exception {
        String output = ShortWorkMain.runWithModulesOnly("java.base,jdk.jfr", frontEnd());
        assertTrue(output.contains("no MXBean " + AllocatorMXBean.TYPE + ",name=1"), output);
        assertTrue(output.contains("NoClassDefFoundError"), output);
    }
}
