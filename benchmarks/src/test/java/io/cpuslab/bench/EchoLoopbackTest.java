package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.netty.CpuSlabByteBufAllocator;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The echo benchmark's server and client over real loopback TCP: batches complete, and once closed
 * every buffer either side allocated is back, in cpuslab (checked mode, bytes in use) and in Netty's
 * pooled allocator (active allocations, counted when the event-loop threads' caches are freed).
 */
class EchoLoopbackTest {
    private static final int MESSAGES = 2_000;
    private static final int DEPTH = 16;

    @Test
    void cpuslabBytesInUseAreBackAfterClose() throws Exception {
        try (OffHeapAllocator memory = CpuSlab.builder().checked(true).build()) {
            long baseline = memory.stats().applicationBytes();
            try (EchoLoopback echo = new EchoLoopback(new CpuSlabByteBufAllocator(memory), DEPTH)) {
                echo.echo(MESSAGES);
                echo.echo(MESSAGES);
            }
            assertEquals(baseline, memory.stats().applicationBytes());
        }
    }

    @Test
    void pooledActiveAllocationsAreBackAfterClose() throws Exception {
        PooledByteBufAllocator pooled = new PooledByteBufAllocator(true);
        try (EchoLoopback echo = new EchoLoopback(pooled, DEPTH)) {
            echo.echo(MESSAGES);
            echo.echo(MESSAGES);
        }
        assertEquals(0, pooled.metric().directArenas().stream().mapToLong(PoolArenaMetric::numActiveAllocations).sum());
    }
}
