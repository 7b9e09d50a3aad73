package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.OffHeapAllocator;
import io.cpuslab.core.SlabLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LockedFrontEndTest {
    private static final int SC = 3;
    private final Arena arena = Arena.ofShared();
    private final SlabLayout layout = new SlabLayout(arena.allocate(4 * SlabLayout.SLAB_BYTES, SlabLayout.SLAB_BYTES), 4);
    private final LockedFrontEnd frontEnd = new LockedFrontEnd(layout, "test");

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void fastPathNeverWaitsForABusyShard() throws Exception {
        for (int slab = 0; slab < 4; slab++) {
            layout.grow(slab, SC, 10);
        }
        CountDownLatch holding = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread holder = Thread.ofPlatform().daemon().start(() -> holdFrom(0, holding, done)); // every shard held by someone else
        try {
            holding.await();
            // Another thread, so its home shard is unknown: every probe must fail at once, not wait.
            CompletableFuture<String> result = CompletableFuture.supplyAsync(
                    () -> frontEnd.pop(SC) + " " + frontEnd.push(SC, 0x100) + " " + frontEnd.grow(0, SC, 1));
            assertEquals("0 false 0", result.get(10, TimeUnit.SECONDS));
        } finally {
            done.countDown();
            holder.join();
        }
    }

    /** Owns shards {@code slab..3}, one inside the other, until {@code done}. */
    private long holdFrom(int slab, CountDownLatch holding, CountDownLatch done) {
        if (slab == 4) {
            holding.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return 0;
        }
        return layout.owning(slab, SlabLayout.WAIT, (owned, s, sc, arg) -> holdFrom(s + 1, holding, done), 0, 0);
    }

    @Test
    void aThreadKeepsItsHomeShard() {
        int home = frontEnd.currentSlab();
        layout.grow(home, SC, 4);
        assertTrue(frontEnd.push(SC, 0x40));
        assertEquals(1, layout.length(home, SC));
        assertEquals(0x40, frontEnd.pop(SC));
    }

    @Test
    void threadIdsSpreadOverAllShards() throws InterruptedException {
        Set<Integer> shards = new HashSet<>();
        for (int i = 0; i < 64; i++) {
            Thread t = Thread.ofVirtual().start(() -> {
                synchronized (shards) {
                    shards.add(frontEnd.currentSlab());
                }
            });
            t.join();
        }
        assertEquals(4, shards.size());
    }

    @Test
    void autoChoosesLockedWhenRseqIsNotOnTheClassPathAndSaysSo() {
        try (OffHeapAllocator a = CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.AUTO).build()) {
            FrontEndInfo info = a.frontEnd();
            assertEquals(FrontEndInfo.Kind.LOCKED, info.kind());
            assertTrue(info.toString().contains("locked"), info.toString());
            assertTrue(info.reason().contains("allocator-rseq is not on the class path"), info.reason());
            assertEquals(LockedFrontEnd.shardCount(), info.slabs());
        }
    }

    @Test
    void rseqRequestedWithoutTheModuleFailsWithTheReason() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> CpuSlab.builder().frontEnd(CpuSlab.FrontEnd.RSEQ).build());
        assertTrue(e.getMessage().contains("rseq unavailable"), e.getMessage());
        assertFalse(e.getMessage().contains("locked"), "no silent fallback: " + e.getMessage());
    }

    @Test
    void anOverflowAtAnyCallOfAnOperationLeavesNoShardLockedInAForkedJvm() throws Exception {
        var r = io.cpuslab.core.ForkedJvm.run(java.util.List.of(), java.util.Map.of(),
                java.util.List.of("--enable-native-access=ALL-UNNAMED", "-Xint", "-Xss512k"), ReleaseOverflowMain.class);
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.verdict().startsWith("OK"), r.output());
        System.out.println(r.verdict());
    }
}
