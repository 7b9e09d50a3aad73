package io.cpuslab.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * The echo workload's client: sends length-prefixed messages of mixed sizes in buffers from its
 * channel's allocator, keeps {@code depth} of them in flight, and checks every echo as its bytes come
 * back, however TCP splits or joins them: the length prefix must be the length sent, and the first and
 * last payload bytes the low byte of the message's sequence number and its complement, so a buffer
 * handed out twice, freed early or read at the wrong address fails the run instead of scoring. The
 * bytes between are not compared: the check must cost little next to an echo.
 *
 * <p>Messages are 4 bytes of length, then 64 B to 16 KiB of payload: each of the eight power-of-two
 * ranges from 64 B up equally often, sizes from a fixed seed, cycled through a precomputed table so
 * the random generator is not measured. Everything but {@link #start} runs on the channel's event loop.
 *
 * <pre>{@code
 * EchoClient client = new EchoClient(16);
 * new Bootstrap().group(group).channel(NioSocketChannel.class).handler(client).connect(address).sync();
 * client.start(1024).get();     // 1,024 messages echoed and checked, at most 16 in flight
 * }</pre>
 */
final class EchoClient extends ChannelInboundHandlerAdapter {
    /** The length prefix: the payload's length as a big-endian int. */
    static final int HEADER = Integer.BYTES;
    private static final int SMALLEST_SHIFT = 6;   // 64 B
    private static final int SIZE_RANGES = 8;
    /** Payloads are shorter than this: 16 KiB. */
    private static final int PAYLOAD_LIMIT = 1 << (SMALLEST_SHIFT + SIZE_RANGES);
    private static final int TABLE = 1 << 12;
    private static final long SEED = 0xec40L;
    private static final int[] SIZES = new int[TABLE];
    private static final byte[] PAYLOAD = new byte[PAYLOAD_LIMIT];

    static {
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < TABLE; i++) {
            int shift = SMALLEST_SHIFT + random.nextInt(SIZE_RANGES);
            SIZES[i] = (1 << shift) + random.nextInt(1 << shift);
        }
        random.nextBytes(PAYLOAD);
    }

    private final int depth;
    /** Set when the channel registers, which {@code connect().sync()} waits for, so {@link #start} sees it. */
    private ChannelHandlerContext ctx;
    private long sent;
    private long echoed;
    private long batchEnd;
    private CompletableFuture<Void> batch;
    private Throwable failure;
    /** The echo being read: bytes of its length prefix seen, its length, payload bytes seen. */
    private int headerBytes;
    private int length;
    private int payloadBytes;

    EchoClient(int depth) {
        if (depth < 1) {
            throw new IllegalArgumentException("depth must be at least 1: " + depth);
        }
        this.depth = depth;
    }

    /** The payload length of message {@code sequence}. */
    static int size(long sequence) {
        return SIZES[(int) (sequence & (TABLE - 1))];
    }

    /**
     * From any thread: sends {@code messages} more messages, at most {@code depth} in flight. The future
     * completes when all of them came back intact, or exceptionally with what was wrong.
     */
    CompletableFuture<Void> start(int messages) {
        if (messages < 1) {
            throw new IllegalArgumentException("messages must be at least 1: " + messages);
        }
        CompletableFuture<Void> started = new CompletableFuture<>();
        ctx.executor().execute(() -> begin(messages, started));
        return started;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            consume(in);
        } finally {
            in.release();
        }
    }

    /** Sends what the echoes made room for, in one flush per read burst as a pipelining client does. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (echoed != sent) {
            fail(new IllegalStateException("connection closed with " + (sent - echoed) + " messages in flight"));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause);
    }

    private void begin(int messages, CompletableFuture<Void> started) {
        if (failure != null || (batch != null && !batch.isDone())) {
            started.completeExceptionally(failure != null ? failure : new IllegalStateException("the last batch is still running"));
            return;
        }
        batch = started;
        batchEnd = sent + messages;
        fill();
        ctx.flush();
    }

    /** Writes messages until {@code depth} are in flight or the batch has all been sent (no flush). */
    private void fill() {
        while (sent < batchEnd && sent - echoed < depth) {
            long sequence = sent++;
            int size = size(sequence);
            ByteBuf message = ctx.alloc().directBuffer(HEADER + size);
            message.writeInt(size).writeBytes(PAYLOAD, 0, size);
            message.setByte(HEADER, (int) sequence);
            message.setByte(HEADER + size - 1, (int) ~sequence);
            ctx.write(message, ctx.voidPromise());
        }
    }

    /** Checks the echoed bytes against the messages sent, in order, one byte of prefix at a time. */
    private void consume(ByteBuf in) {
        while (in.isReadable()) {
            if (headerBytes < HEADER) {
                length = length << Byte.SIZE | in.readUnsignedByte();
                if (++headerBytes == HEADER) {
                    if (echoed == sent) {
                        throw broken("more bytes echoed than sent");
                    }
                    if (length != size(echoed)) {
                        throw broken("length prefix " + length + ", sent " + size(echoed));
                    }
                }
                continue;
            }
            int at = in.readerIndex();
            int n = Math.min(in.readableBytes(), length - payloadBytes);
            if (payloadBytes == 0 && in.getByte(at) != (byte) echoed) {
                throw broken("first payload byte " + in.getByte(at) + ", sent " + (byte) echoed);
            }
            in.skipBytes(n);
            payloadBytes += n;
            if (payloadBytes == length) {
                if (in.getByte(at + n - 1) != (byte) ~echoed) {
                    throw broken("last payload byte " + in.getByte(at + n - 1) + ", sent " + (byte) ~echoed);
                }
                headerBytes = 0;
                length = 0;
                payloadBytes = 0;
                echoed();
            }
        }
    }

    private void echoed() {
        if (++echoed == batchEnd) {
            batch.complete(null);
        } else {
            fill();
        }
    }

    private IllegalStateException broken(String what) {
        return new IllegalStateException("echo of message " + echoed + " (" + size(echoed) + " B payload): " + what);
    }

    private void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        if (batch != null) {
            batch.completeExceptionally(cause);
        }
        ctx.close();
    }
}
