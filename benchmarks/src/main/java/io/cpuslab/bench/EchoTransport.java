package io.cpuslab.bench;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.util.function.Supplier;

/**
 * The Netty transport the echo runs on: its event loops' I/O handler and its channel classes. A Netty
 * server on Linux runs on epoll, so the suite does too wherever Netty's native epoll library loads
 * ({@link #preferred()}); NIO, the JDK's selector, everywhere else.
 *
 * <pre>{@code
 * EchoTransport t = EchoTransport.preferred();   // EPOLL on Linux x86-64, NIO elsewhere
 * }</pre>
 *
 * <p>Public because it is {@link EchoBenchmark}'s {@code transport} parameter, which JMH's generated
 * code sets.
 */
public enum EchoTransport {
    NIO("NIO", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class),
    EPOLL("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class, EpollSocketChannel.class);

    /** How results name it. */
    final String label;
    final Supplier<IoHandlerFactory> handlers;
    final Class<? extends ServerChannel> server;
    /** A connected socket's class: the client's, and every connection the server accepts. */
    final Class<? extends SocketChannel> socket;

    EchoTransport(String label, Supplier<IoHandlerFactory> handlers, Class<? extends ServerChannel> server,
                  Class<? extends SocketChannel> socket) {
        this.label = label;
        this.handlers = handlers;
        this.server = server;
        this.socket = socket;
    }

    /** Epoll where Netty's native library loads, NIO otherwise. */
    static EchoTransport preferred() {
        return Epoll.isAvailable() ? EPOLL : NIO;
    }

    /** Why this transport cannot run here, or null when it can. */
    String unavailable() {
        return this == EPOLL && !Epoll.isAvailable() ? "epoll unavailable: " + Epoll.unavailabilityCause() : null;
    }
}
