package io.cpuslab.bench;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.netty.CpuSlabByteBufAllocator;
import io.netty.buffer.PoolArenaMetric;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The echo benchmark's server and client over real loopback TCP, on each transport (epoll skipped,
 * with Netty's reason, where its native library does not load): the connection is that transport's
 * channel, batches complete, and once closed every buffer either side allocated is back, in cpuslab
 * (checked mode, bytes in use) and in Netty's pooled allocator (active allocations, counted when the
 * event-loop threads' caches are freed).
 */
class EchoLoopbackTest {
    private static final int MESSAGES = 2_000;
    private static final int DEPTH = 16;

    @ParameterizedTest
    @EnumSource(EchoTransport.class)
    void cpuslabBytesInUseAreBackAfterClose(EchoTransport transport) throws Exception {
        assumeAvailable(transport);
        try (OffHeapAllocator memory = CpuSlab.builder().checked(true).build()) {
            long baseline = memory.stats().applicationBytes();
            try (EchoLoopback echo = new EchoLoopback(new CpuSlabByteBufAllocator(memory), DEPTH, transport)) {
                assertInstanceOf(transport.socket, echo.connection());
                echo.echo(MESSAGES);
                echo.echo(MESSAGES);
            }
            assertEquals(baseline, memory.stats().applicationBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(EchoTransport.class)
    void pooledActiveAllocationsAreBackAfterClose(EchoTransport transport) throws Exception {
        assumeAvailable(transport);
        PooledByteBufAllocator pooled = new PooledByteBufAllocator(true);
        try (EchoLoopback echo = new EchoLoopback(pooled, DEPTH, transport)) {
            assertInstanceOf(transport.socket, echo.connection());
            echo.echo(MESSAGES);
            echo.echo(MESSAGES);
        }
        assertEquals(0, pooled.metric().directArenas().stream().mapToLong(PoolArenaMetric::numActiveAllocations).sum());
    }

    private static void assumeAvailable(EchoTransport transport) {
        String unavailable = transport.unavailable();
        Assumptions.assumeTrue(unavailable == null, unavailable);
    }
}
