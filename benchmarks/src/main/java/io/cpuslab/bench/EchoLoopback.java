package io.cpuslab.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Netty echo server and one client connected to it over loopback TCP, in this JVM, on one
 * {@link EchoTransport} (epoll or NIO), every channel (listening, accepted, client) with the allocator
 * under test through {@link ChannelOption#ALLOCATOR}. The server runs on one event-loop thread and
 * writes back every buffer it reads, as Netty's echo example does; the client ({@link EchoClient}) runs
 * on another. So every buffer is allocated and released on an event-loop thread, where Netty's pooled
 * allocators keep their thread caches.
 *
 * <pre>{@code
 * try (EchoLoopback echo = new EchoLoopback(PooledByteBufAllocator.DEFAULT, 16, EchoTransport.preferred())) {
 *     echo.echo(1024);      // returns when all 1,024 came back intact; throws otherwise
 * }
 * }</pre>
 */
final class EchoLoopback implements AutoCloseable {
    /** A batch that takes longer lost a message: fail rather than hang the run. */
    private static final long BATCH_TIMEOUT_SECONDS = 60;
    private static final long SHUTDOWN_TIMEOUT_SECONDS = 10;

    private final EventLoopGroup serverGroup;
    private final EventLoopGroup clientGroup;
    private final EchoClient client;
    private Channel server;
    private Channel connection;

    /**
     * Binds the server to a free loopback port and connects the client to it, on {@code transport}.
     *
     * @throws IllegalStateException where the transport cannot run, with the reason
     */
    EchoLoopback(ByteBufAllocator allocator, int depth, EchoTransport transport) throws InterruptedException {
        String unavailable = transport.unavailable();
        if (unavailable != null) {
            throw new IllegalStateException(unavailable);
        }
        client = new EchoClient(depth);
        serverGroup = new MultiThreadIoEventLoopGroup(1, transport.handlers.get());
        clientGroup = new MultiThreadIoEventLoopGroup(1, transport.handlers.get());
        try {
            server = new ServerBootstrap().group(serverGroup).channel(transport.server)
                    .option(ChannelOption.ALLOCATOR, allocator)
                    .childOption(ChannelOption.ALLOCATOR, allocator)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new EchoServer())
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            connection = new Bootstrap().group(clientGroup).channel(transport.socket)
                    .option(ChannelOption.ALLOCATOR, allocator)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(client)
                    .connect(server.localAddress()).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The client's end of the connection. */
    Channel connection() {
        return connection;
    }

    /** Echoes {@code messages} messages with the client's depth in flight; throws if any came back wrong. */
    void echo(int messages) throws InterruptedException, ExecutionException, TimeoutException {
        client.start(messages).get(BATCH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** Closes both channels and stops both event loops, waiting for their threads to end. */
    @Override
    public void close() {
        try {
            if (connection != null) {
                connection.close().syncUninterruptibly();
            }
            if (server != null) {
                server.close().syncUninterruptibly();
            }
        } finally {
            clientGroup.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
            serverGroup.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Writes back what it reads, flushing once per read burst. */
    @ChannelHandler.Sharable
    private static final class EchoServer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        /** The client sees the connection close and fails its batch. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
