package io.cpuslab.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A Netty echo server and client over loopback TCP in this JVM ({@link EchoLoopback}), every channel
 * with the peer's {@code ByteBufAllocator}; Netty peers only. One operation is one message echoed: the
 * client allocates it from its channel's allocator (a 4-byte length prefix and 64 B to 16 KiB of
 * payload, sizes mixed from a fixed seed) and writes it, the server writes back the buffers it read,
 * and the client checks the echo as it reads it into buffers of its own: length prefix, first and last
 * payload bytes ({@link EchoClient}). The score is the whole round trip, transport included: the
 * allocator is one part of an echo's cost, as in a server.
 *
 * <p>{@code depth} is how many messages the client keeps in flight: 1 is request/response, each message
 * waiting for the last one's echo, so the score is one round trip; 16 is a pipelining client, so the
 * score is the time per message of the whole pipeline. Each invocation echoes {@value #MESSAGES}
 * messages and waits for the last. The server and the client each have an event-loop thread; the
 * benchmark thread sleeps while a batch runs.
 *
 * <p>{@code transport} is {@link EchoTransport}'s {@code EPOLL} or {@code NIO}. Run straight from the jar
 * the benchmark measures both; where epoll cannot run, its trial fails with the reason. The suite
 * ({@link Workload#echo}) passes the one a Netty server here would use.
 *
 * <pre>java -jar benchmarks/target/benchmarks.jar EchoBenchmark -p peer=netty-pooled,netty-adaptive,cpuslab-netty -p transport=EPOLL</pre>
 */
public class EchoBenchmark extends PeerBenchmark {
    /** Per invocation: the benchmark thread's wake-up and a batch's tail, with fewer in flight, come once per this many. */
    private static final int MESSAGES = 1024;

    /** The server, the client and their connection, for one trial. */
    @State(Scope.Thread)
    public static class Connection {
        @Param({"1", "16"})
        public int depth;
        @Param({"EPOLL", "NIO"})
        public EchoTransport transport;
        EchoLoopback loopback;

        @Setup(Level.Trial)
        public void open(PeerState peer) throws InterruptedException {
            loopback = new EchoLoopback(peer.nettyAllocator(), depth, transport);
        }

        /** Before {@link PeerState}'s tear-down, which closes the peer: JMH tears dependent states down first. */
        @TearDown(Level.Trial)
        public void close() {
            loopback.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public void echo(Connection c) throws Exception {
        c.loopback.echo(MESSAGES);
    }
}
