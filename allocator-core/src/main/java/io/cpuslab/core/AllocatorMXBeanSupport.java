package io.cpuslab.core;

import io.cpuslab.AllocatorMXBean;
import io.cpuslab.AllocatorStats;
import io.cpuslab.OffHeapAllocator;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * One allocator's {@link AllocatorMXBean} in the platform MBean server, from its creation to its
 * {@code close()}. JMX is a convenience, never a condition: {@link #register} returns null instead of
 * failing when the server refuses the bean (its name is taken) or there is no server at all (a runtime
 * without {@code java.management}), and says why in a {@code DEBUG} line of the {@code io.cpuslab} logger.
 *
 * <pre>{@code
 * AllocatorMXBeanSupport bean = AllocatorMXBeanSupport.register(allocator, "orders");   // null if JMX said no
 * ...
 * if (bean != null) {
 *     bean.unregister();
 * }
 * }</pre>
 *
 * <p>The {@code javax.management} types appear only inside method bodies, never in a signature the
 * allocator links against, and failures are caught as {@link Exception} and {@link LinkageError}: so without
 * {@code java.management} this class still loads, and the first JMX call fails inside {@link #register}.
 */
final class AllocatorMXBeanSupport implements AllocatorMXBean {
    private static final System.Logger LOG = System.getLogger("io.cpuslab");

    private final OffHeapAllocator allocator;
    private final String objectName;

    private AllocatorMXBeanSupport(OffHeapAllocator allocator, String objectName) {
        this.allocator = allocator;
        this.objectName = objectName;
    }

    /** Registers {@code allocator}'s bean as {@code io.cpuslab:type=Allocator,name=<name>}; null when JMX cannot. */
    static AllocatorMXBeanSupport register(OffHeapAllocator allocator, String name) {
        AllocatorMXBeanSupport bean = new AllocatorMXBeanSupport(allocator, TYPE + ",name=" + name);
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(bean, new ObjectName(bean.objectName));
            return bean;
        } catch (Exception | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "cpuslab: no MXBean " + bean.objectName + " (the allocator works without it)", e);
            return null;
        }
    }

    /** Takes the bean out of the server; a failure (someone unregistered it already) is only logged. */
    void unregister() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(new ObjectName(objectName));
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "cpuslab: could not unregister " + objectName, e);
        }
    }

    @Override
    public String getFrontEnd() {
        return allocator.frontEnd().toString();
    }

    @Override
    public long getApplicationBytes() {
        return allocator.stats().applicationBytes();
    }

    @Override
    public long getCpuCacheBytes() {
        return allocator.stats().cpuCacheBytes();
    }

    @Override
    public long getTransferCacheBytes() {
        return allocator.stats().transferCacheBytes();
    }

    @Override
    public long getCentralCacheBytes() {
        return allocator.stats().centralCacheBytes();
    }

    @Override
    public long getSpanOverheadBytes() {
        return allocator.stats().spanOverheadBytes();
    }

    @Override
    public long getPageHeapFreeBytes() {
        return allocator.stats().pageHeapFreeBytes();
    }

    @Override
    public long getReleasedBytes() {
        return allocator.stats().releasedBytes();
    }

    @Override
    public long getMetadataBytes() {
        return allocator.stats().metadataBytes();
    }

    @Override
    public long getMappedBytes() {
        return allocator.stats().mappedBytes();
    }

    @Override
    public long getReleasedTotalBytes() {
        return allocator.stats().releasedTotalBytes();
    }

    @Override
    public long getPageMapHeapBytes() {
        return allocator.stats().pageMapHeapBytes();
    }

    @Override
    public long getCachedBytes() {
        return allocator.stats().cachedBytes();
    }

    @Override
    public long getResidentBytes() {
        return allocator.stats().residentBytes();
    }

    @Override
    public List<AllocatorStats.ClassStats> getClasses() {
        return allocator.stats().classes();
    }

    @Override
    public List<AllocatorStats.SlabStats> getSlabs() {
        return allocator.stats().slabs();
    }

    @Override
    public AllocatorStats.HugePageStats getHugePages() {
        return allocator.stats().hugePages();
    }

    @Override
    public AllocatorStats getStats() {
        return allocator.stats();
    }
}
