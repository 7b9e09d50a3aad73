package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Buffers made on one thread and released on another, as between Netty event loops, and buffers whose
 * last references race to {@code release()}: every buffer must keep its contents until released, be
 * freed exactly once (checked mode throws on a double free), and all memory must come back.
 */
class CrossThreadReleaseStressTest {

    private static final int THREADS = 4;
    private static final int BUFFERS_PER_THREAD = 20_000;
    private static final int HANDOFF_CAPACITY = 256;
    private static final int RACES = 20_000;
    private static final long TIMEOUT_SECONDS = 120;

    @Test
    void buffersHandedToTheNextThreadKeepTheirContentsAndAllComeBack() throws Exception {
        OffHeapAllocator memory = CpuSlab.builder().checked(true).build();
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(memory);
            List<BlockingQueue<ByteBuf>> inboxes = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                inboxes.add(new ArrayBlockingQueue<>(HANDOFF_CAPACITY));
            }
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                BlockingQueue<ByteBuf> inbox = inboxes.get(t);
                BlockingQueue<ByteBuf> next = inboxes.get((t + 1) % THREADS);
                long seed = t;
                results.add(pool.submit(() -> relay(alloc, inbox, next, new SplittableRandom(seed))));
            }
            long corrupted = 0;
            for (Future<Long> f : results) {
                corrupted += f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            assertEquals(0, corrupted, "buffers whose contents changed before release");
            assertEquals(0, memory.stats().applicationBytes());
        } finally {
            pool.shutdownNow();
            memory.close();
        }
    }

    /** Sends its own buffers to {@code next}, checks and releases what arrives; returns the bad ones. */
    private static long relay(CpuSlabByteBufAllocator alloc, BlockingQueue<ByteBuf> inbox, BlockingQueue<ByteBuf> next,
                              SplittableRandom random) throws InterruptedException {
        long corrupted = 0;
        int sent = 0;
        int received = 0;
        while (sent < BUFFERS_PER_THREAD || received < BUFFERS_PER_THREAD) {
            if (sent < BUFFERS_PER_THREAD) {
                ByteBuf buf = alloc.directBuffer(8 + random.nextInt(2000));
                buf.writeLong(buf.memoryAddress());
                buf.writeZero(random.nextInt(buf.writableBytes() + 1));
                buf.setByte(buf.writerIndex() - 1, (int) buf.memoryAddress());
                if (next.offer(buf)) {
                    sent++;
                } else {
                    buf.release();
                }
            }
            ByteBuf in = inbox.poll(received < BUFFERS_PER_THREAD && sent == BUFFERS_PER_THREAD ? 10 : 0,
                    TimeUnit.MILLISECONDS);
            if (in != null) {
                received++;
                if (in.getLong(0) != in.memoryAddress() || in.getByte(in.writerIndex() - 1) != (byte) in.memoryAddress()) {
                    corrupted++;
                }
                in.release();
            }
        }
        return corrupted;
    }

    @Test
    void racingLastReleasesFreeEachBufferOnce() throws Exception {
        OffHeapAllocator memory = CpuSlab.builder().checked(true).build();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CpuSlabByteBufAllocator alloc = new CpuSlabByteBufAllocator(memory);
            ByteBuf[] shared = new ByteBuf[1];
            CyclicBarrier start = new CyclicBarrier(2, () -> shared[0] = alloc.directBuffer(64).retain());
            CyclicBarrier end = new CyclicBarrier(2);
            Runnable releaser = () -> {
                try {
                    for (int i = 0; i < RACES; i++) {
                        start.await();
                        shared[0].release();    // two references, two releasers: exactly one frees
                        end.await();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            Future<?> a = pool.submit(releaser);
            Future<?> b = pool.submit(releaser);
            a.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            b.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertEquals(0, memory.stats().applicationBytes());
        } finally {
            pool.shutdownNow();
            memory.close();
        }
    }
}
