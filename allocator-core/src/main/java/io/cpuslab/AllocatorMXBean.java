package io.cpuslab;

import java.util.List;

/**
 * An allocator's numbers for JMX tools (JConsole, VisualVM, JDK Mission Control): each allocator registers
 * one under {@code io.cpuslab:type=Allocator,name=<name>} in the platform MBean server when it is made, and
 * unregisters it when it closes ({@link CpuSlab.Builder#name(String)}, {@link CpuSlab.Builder#jmx(boolean)}).
 * The attributes are {@link AllocatorStats}' numbers under the same names, each read from a fresh
 * {@code stats()}, and the front end in words.
 *
 * <pre>{@code
 * OffHeapAllocator alloc = CpuSlab.builder().name("orders").build();
 * MBeanServer server = ManagementFactory.getPlatformMBeanServer();
 * ObjectName name = new ObjectName(AllocatorMXBean.TYPE + ",name=orders");
 * long inUse = (Long) server.getAttribute(name, "ApplicationBytes");
 * AllocatorMXBean proxy = JMX.newMXBeanProxy(server, name, AllocatorMXBean.class);   // or typed
 * }</pre>
 *
 * <p>Every attribute takes its own snapshot, so attributes read one by one add up only while the allocator
 * is quiet; {@link #getStats() Stats} gives them all from one, as {@link OffHeapAllocator#stats()} does.
 */
public interface AllocatorMXBean {
    /** Domain and type of every allocator's object name; the key {@code name} completes it. */
    String TYPE = "io.cpuslab:type=Allocator";

    /** Which front end serves the allocator, and why ({@link FrontEndInfo#toString()}). */
    String getFrontEnd();

    /** @see AllocatorStats#applicationBytes() */
    long getApplicationBytes();

    /** @see AllocatorStats#cpuCacheBytes() */
    long getCpuCacheBytes();

    /** @see AllocatorStats#transferCacheBytes() */
    long getTransferCacheBytes();

    /** @see AllocatorStats#centralCacheBytes() */
    long getCentralCacheBytes();

    /** @see AllocatorStats#spanOverheadBytes() */
    long getSpanOverheadBytes();

    /** @see AllocatorStats#pageHeapFreeBytes() */
    long getPageHeapFreeBytes();

    /** @see AllocatorStats#releasedBytes() */
    long getReleasedBytes();

    /** @see AllocatorStats#metadataBytes() */
    long getMetadataBytes();

    /** @see AllocatorStats#mappedBytes() */
    long getMappedBytes();

    /** @see AllocatorStats#releasedTotalBytes() */
    long getReleasedTotalBytes();

    /** @see AllocatorStats#pageMapHeapBytes() */
    long getPageMapHeapBytes();

    /** @see AllocatorStats#cachedBytes() */
    long getCachedBytes();

    /** @see AllocatorStats#residentBytes() */
    long getResidentBytes();

    /**
     * One row per size class that has memory (JMX sees a {@code CompositeData[]}).
     *
     * @see AllocatorStats#classes()
     */
    List<AllocatorStats.ClassStats> getClasses();

    /**
     * One row per per-CPU slab (JMX sees a {@code CompositeData[]}).
     *
     * @see AllocatorStats#slabs()
     */
    List<AllocatorStats.SlabStats> getSlabs();

    /**
     * The hugepage view of the page heap (JMX sees a {@code CompositeData}).
     *
     * @see AllocatorStats#hugePages()
     */
    AllocatorStats.HugePageStats getHugePages();

    /**
     * Every number above from one snapshot, so they add up however busy the allocator is: open data
     * (a {@code CompositeData} with the components of {@link AllocatorStats}) in JConsole, the record in a
     * typed proxy.
     *
     * @see OffHeapAllocator#stats()
     */
    AllocatorStats getStats();
}
