package io.cpuslab.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The echo client on an {@link EmbeddedChannel}, the test playing the server: echoes split and joined
 * anywhere are all counted, the client never has more than its depth in flight, every buffer it is
 * given is released, and an echo that is damaged, out of order or longer than what was sent fails
 * the run.
 */
class EchoClientTest {
    private static final int MESSAGES = 500;
    private static final int LARGEST_PIECE = 40_000;   // joins up to a few messages, splits the rest anywhere

    @ParameterizedTest
    @ValueSource(ints = {1, 16})
    void echoesInPiecesOfAnySizeCompleteTheBatchWithDepthInFlight(int depth) {
        EchoClient client = new EchoClient(depth);
        EmbeddedChannel channel = new EmbeddedChannel(client);
        SplittableRandom random = new SplittableRandom(depth);
        for (int batch = 0; batch < 2; batch++) {
            CompletableFuture<Void> done = client.start(MESSAGES);
            channel.runPendingTasks();
            int sent = 0;
            while (!done.isDone()) {
                ByteBuf echo = Unpooled.buffer();
                int messages = 0;
                for (ByteBuf m; (m = channel.readOutbound()) != null; messages++) {
                    echo.writeBytes(m);
                    m.release();
                }
                assertTrue(messages > 0, "the batch waits only for messages in flight");
                assertTrue(messages <= depth, messages + " sent at once, depth " + depth);
                if (sent == 0) {
                    assertEquals(depth, messages, "the batch starts with depth messages");
                }
                sent += messages;
                while (echo.isReadable()) {
                    channel.writeInbound(echo.readRetainedSlice(Math.min(1 + random.nextInt(LARGEST_PIECE), echo.readableBytes())));
                }
                assertTrue(echo.release(), "the client released every piece");
            }
            done.join();
            assertEquals(MESSAGES, sent);
        }
        assertTrue(channel.isOpen());
        assertFalse(channel.finish(), "nothing left over");
    }

    /** What the test echoes instead of the two messages sent, and what the client must say about it. */
    enum Damage {
        LENGTH_PREFIX("echo of message 0 ", "length prefix"),
        FIRST_PAYLOAD_BYTE("echo of message 0 ", "first payload byte"),
        LAST_PAYLOAD_BYTE("echo of message 0 ", "last payload byte"),
        REORDERED("echo of message 0 ", "length prefix"),
        MORE_THAN_SENT("echo of message 2 ", "more bytes echoed than sent");

        final String message;
        final String what;

        Damage(String message, String what) {
            this.message = message;
            this.what = what;
        }
    }

    @ParameterizedTest
    @EnumSource(Damage.class)
    void aDamagedOrMisplacedEchoFailsTheRunAndClosesTheConnection(Damage damage) {
        Assumptions.assumeTrue(EchoClient.size(0) != EchoClient.size(1), "reordering shows in the length prefix");
        EchoClient client = new EchoClient(2);
        EmbeddedChannel channel = new EmbeddedChannel(client);
        CompletableFuture<Void> batch = client.start(2);
        channel.runPendingTasks();
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();
        ByteBuf echo = switch (damage) {
            case LENGTH_PREFIX -> Unpooled.wrappedBuffer(flip(first, EchoClient.HEADER - 1), second);
            case FIRST_PAYLOAD_BYTE -> Unpooled.wrappedBuffer(flip(first, EchoClient.HEADER), second);
            case LAST_PAYLOAD_BYTE -> Unpooled.wrappedBuffer(flip(first, first.writerIndex() - 1), second);
            case REORDERED -> Unpooled.wrappedBuffer(second, first);
            case MORE_THAN_SENT -> Unpooled.wrappedBuffer(first, second, Unpooled.copyInt(EchoClient.size(2)));
        };
        channel.writeInbound(echo);

        // Extra bytes after the batch's last echo fail the next batch; the run fails either way.
        CompletableFuture<Void> failed = batch.isCompletedExceptionally() ? batch : client.start(1);
        channel.runPendingTasks();
        Throwable failure = assertThrows(CompletionException.class, failed::join).getCause();
        assertTrue(failure.getMessage().startsWith(damage.message) && failure.getMessage().contains(damage.what),
                failure.getMessage());
        assertFalse(channel.isOpen(), "the client closed the connection");
        assertEquals(0, echo.refCnt(), "the client released the echo");
    }

    private static ByteBuf flip(ByteBuf buf, int index) {
        return buf.setByte(index, ~buf.getByte(index));
    }
}
