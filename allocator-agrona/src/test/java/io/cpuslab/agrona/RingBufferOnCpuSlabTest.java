package io.cpuslab.agrona;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Agrona's many-to-one ring buffer over a cpuslab {@link AtomicBuffer}: producers on several threads
 * claim slots with CAS and publish with ordered writes, one consumer reads. Every message must arrive
 * once, intact, and in order per producer; a buffer that was not zeroed, too small or misaligned, or
 * atomic accessors that did not reach the memory, would break one of these.
 */
class RingBufferOnCpuSlabTest {

    private static final int PRODUCERS = 3;
    private static final int MESSAGES_PER_PRODUCER = 100_000;
    private static final int CAPACITY = 64 * 1024;
    private static final int MESSAGE_TYPE = 1;
    private static final int MESSAGE_LENGTH = 16;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(60);

    @Test
    void everyMessageArrivesOnceAndInOrderPerProducer() throws Exception {
        OffHeapAllocator memory = CpuSlab.builder().checked(true).build();
        try (CpuSlabBuffers buffers = new CpuSlabBuffers(memory)) {
            AtomicBuffer ring = buffers.allocateAligned(CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 64);
            ManyToOneRingBuffer queue = new ManyToOneRingBuffer(ring);
            ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
            try {
                List<Future<?>> producers = new ArrayList<>();
                for (int p = 0; p < PRODUCERS; p++) {
                    int producer = p;
                    producers.add(pool.submit(() -> produce(queue, producer)));
                }
                long[] next = new long[PRODUCERS];
                long received = 0;
                long deadline = System.nanoTime() + TIMEOUT_NANOS;
                List<String> failures = new ArrayList<>();
                while (received < (long) PRODUCERS * MESSAGES_PER_PRODUCER && System.nanoTime() < deadline) {
                    received += queue.read((type, buffer, index, length) -> {
                        int producer = buffer.getInt(index);
                        long sequence = buffer.getLong(index + 8);
                        if (type != MESSAGE_TYPE || length != MESSAGE_LENGTH || sequence != next[producer]
                                || buffer.getInt(index + 4) != ~producer) {
                            failures.add("producer " + producer + " sequence " + sequence + " expected " + next[producer]);
                        }
                        next[producer] = sequence + 1;
                    });
                }
                for (Future<?> f : producers) {
                    f.get(1, TimeUnit.SECONDS);
                }
                assertTrue(failures.isEmpty(), () -> failures.size() + " bad messages, first " + failures.get(0));
                assertEquals((long) PRODUCERS * MESSAGES_PER_PRODUCER, received);
                for (long n : next) {
                    assertEquals(MESSAGES_PER_PRODUCER, n);
                }
            } finally {
                pool.shutdownNow();
            }
        } finally {
            assertEquals(0, memory.stats().applicationBytes());
            memory.close();
        }
    }

    private static void produce(ManyToOneRingBuffer queue, int producer) {
        UnsafeBuffer message = new UnsafeBuffer(new byte[MESSAGE_LENGTH]);
        message.putInt(0, producer);
        message.putInt(4, ~producer);
        for (long sequence = 0; sequence < MESSAGES_PER_PRODUCER; ) {
            message.putLong(8, sequence);
            if (queue.write(MESSAGE_TYPE, message, 0, MESSAGE_LENGTH)) {
                sequence++;
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
