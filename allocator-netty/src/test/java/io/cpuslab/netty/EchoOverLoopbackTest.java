package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Netty echo server and client over loopback TCP, both with {@link CpuSlabByteBufAllocator} set
 * through {@link ChannelOption#ALLOCATOR}: thousands of messages of mixed sizes, every byte echoed back
 * and compared, every buffer both sides read checked to be cpuslab memory, no leak reported (PARANOID),
 * and cpuslab's bytes in use back to where they started. Once on NIO and once on Netty's native epoll
 * transport, each channel (listening, accepted, client) checked to be that transport's; epoll is
 * skipped, with Netty's reason, only where {@link Epoll#isAvailable()} is false (not Linux, or its
 * native library for this CPU is missing or cannot load).
 */
class EchoOverLoopbackTest {

    private static final int MESSAGES = 5_000;
    private static final int FLUSH_EVERY = 32;
    private static final long SEED = 0xec40L;
    private static final long TIMEOUT_SECONDS = 60;

    enum Transport {
        NIO(NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class),
        EPOLL(EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class);

        final Supplier<IoHandlerFactory> handlers;
        final Class<? extends ServerChannel> server;
        /** A connected socket's class: the client's, and the connection the server accepts. */
        final Class<? extends SocketChannel> socket;

        Transport(Supplier<IoHandlerFactory> handlers, Class<? extends ServerChannel> server, Class<? extends SocketChannel> socket) {
            this.handlers = handlers;
            this.server = server;
            this.socket = socket;
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    void echoesMixedSizesInCpuSlabBuffersWithoutLeaks(Transport transport) throws Exception {
        if (transport == Transport.EPOLL && !Epoll.isAvailable()) {
            String reason = "epoll unavailable: " + Epoll.unavailabilityCause();
            System.out.println("SKIPPED epoll echo: " + reason);
            Assumptions.abort(reason);
        }
        int[] sizes = new int[MESSAGES];
        Random random = new Random(SEED);
        int total = 0;
        for (int i = 0; i < MESSAGES; i++) {
            sizes[i] = mixedSize(random);
            total += sizes[i];
        }
        byte[] payload = new byte[total];
        random.nextBytes(payload);

        OffHeapAllocator memory = CpuSlab.builder().checked(true).build();
        try {
            CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(memory);
            long baseline = memory.stats().applicationBytes();
            long leaksBefore = CountingLeakDetector.collectAndCount(alloc, Long.MAX_VALUE);
            Echo echo = new Echo(alloc, transport, payload, sizes);

            EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, transport.handlers.get());
            try {
                Channel server = new ServerBootstrap().group(group).channel(transport.server)
                        .option(ChannelOption.ALLOCATOR, alloc)
                        .childOption(ChannelOption.ALLOCATOR, alloc)
                        .childHandler(echo.server)
                        .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
                Channel client = new Bootstrap().group(group).channel(transport.socket)
                        .option(ChannelOption.ALLOCATOR, alloc)
                        .handler(echo.client)
                        .connect(server.localAddress()).sync().channel();
                assertInstanceOf(transport.server, server);
                assertInstanceOf(transport.socket, client);
                echo.done.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                client.close().sync();
                server.close().sync();
            } finally {
                group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
            }

            assertTrue(echo.failures.isEmpty(), () -> "failures: " + echo.failures);
            assertEquals(total, echo.received.get());
            assertTrue(echo.serverReads.get() > 0 && echo.clientReads.get() > 0);
            System.out.printf("%s echo (%s, %s): %d messages, %d bytes, %d server reads and %d client reads, all in cpuslab buffers%n",
                    transport, transport.server.getSimpleName(), transport.socket.getSimpleName(), MESSAGES, total,
                    echo.serverReads.get(), echo.clientReads.get());
            assertEquals(leaksBefore, CountingLeakDetector.collectAndCount(alloc, leaksBefore), "leaks reported");
            assertEquals(baseline, memory.stats().applicationBytes(), "cpuslab bytes in use after the run");
        } finally {
            memory.close();
        }
    }

    /** Mostly small frames, some of a few KiB, a few of tens of KiB: what a protocol server sees. */
    private static int mixedSize(Random random) {
        int roll = random.nextInt(100);
        if (roll < 70) {
            return 1 + random.nextInt(256);
        }
        if (roll < 95) {
            return 257 + random.nextInt(4096);
        }
        return 4353 + random.nextInt(60_000);
    }

    private static boolean isCpuSlab(ByteBuf buf) {
        for (ByteBuf b = buf; b != null; b = b.unwrap()) {
            if (b instanceof CpuSlabDirectByteBuf) {
                return true;
            }
        }
        return false;
    }

    /** Both ends: the server writes back what it reads; the client sends the messages and checks the echo. */
    private static final class Echo {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final Queue<String> failures = new ConcurrentLinkedQueue<>();
        final AtomicLong received = new AtomicLong();
        final AtomicLong serverReads = new AtomicLong();
        final AtomicLong clientReads = new AtomicLong();
        final ChannelHandler server;
        final ChannelHandler client;

        Echo(CpuSlabByteBufAllocator alloc, Transport transport, byte[] payload, int[] sizes) {
            server = new ServerHandler(this, alloc, transport);
            client = new ClientHandler(this, alloc, payload, sizes);
        }

        void check(boolean ok, String failure) {
            if (!ok) {
                failures.add(failure);
                done.completeExceptionally(new AssertionError(failure));
            }
        }
    }

    @ChannelHandler.Sharable
    private static final class ServerHandler extends ChannelInboundHandlerAdapter {
        private final Echo echo;
        private final CpuSlabByteBufAllocator alloc;
        private final Transport transport;

        ServerHandler(Echo echo, CpuSlabByteBufAllocator alloc, Transport transport) {
            this.echo = echo;
            this.alloc = alloc;
            this.transport = transport;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            echo.check(transport.socket.isInstance(ctx.channel()), "server accepted a " + ctx.channel().getClass().getName()
                    + " on " + transport);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            echo.check(buf.alloc() == alloc && isCpuSlab(buf), "server read a buffer not from cpuslab: " + buf);
            echo.serverReads.incrementAndGet();
            ctx.write(buf);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            echo.check(false, "server: " + cause);
            ctx.close();
        }
    }

    private static final class ClientHandler extends ChannelInboundHandlerAdapter {
        private final Echo echo;
        private final CpuSlabByteBufAllocator alloc;
        private final byte[] payload;
        private final int[] sizes;

        ClientHandler(Echo echo, CpuSlabByteBufAllocator alloc, byte[] payload, int[] sizes) {
            this.echo = echo;
            this.alloc = alloc;
            this.payload = payload;
            this.sizes = sizes;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            int offset = 0;
            for (int i = 0; i < sizes.length; i++) {
                ByteBuf message = ctx.alloc().directBuffer(sizes[i]).writeBytes(payload, offset, sizes[i]);
                offset += sizes[i];
                ctx.write(message);
                if (i % FLUSH_EVERY == FLUSH_EVERY - 1) {
                    ctx.flush();
                }
            }
            ctx.flush();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                echo.check(buf.alloc() == alloc && isCpuSlab(buf), "client read a buffer not from cpuslab: " + buf);
                echo.clientReads.incrementAndGet();
                int at = (int) echo.received.get();
                int n = buf.readableBytes();
                echo.check(at + n <= payload.length, "more bytes echoed than sent");
                for (int i = 0; i < n && at + i < payload.length; i++) {
                    if (buf.getByte(buf.readerIndex() + i) != payload[at + i]) {
                        echo.check(false, "echoed byte " + (at + i) + " differs");
                        break;
                    }
                }
                if (echo.received.addAndGet(n) == payload.length) {
                    echo.done.complete(null);
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            echo.check(false, "client: " + cause);
            ctx.close();
        }
    }
}
