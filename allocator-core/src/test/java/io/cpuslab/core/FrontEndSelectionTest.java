package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrontEndSelectionTest {
    private static AllocatorConfig config(CpuSlab.FrontEnd frontEnd) {
        return AllocatorConfig.defaults(frontEnd);
    }

    private record Fake(CpuSlab.FrontEnd type, String unavailable) implements SlabFrontEndProvider {
        @Override
        public String unavailableReason(AllocatorConfig config) {
            return unavailable;
        }

        @Override
        public int slabCount(AllocatorConfig config) {
            return 1;
        }

        @Override
        public SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason, NativePageMap classes) {
            throw new UnsupportedOperationException();
        }
    }

    private final Fake rseq = new Fake(CpuSlab.FrontEnd.RSEQ, null);
    private final Fake noRseq = new Fake(CpuSlab.FrontEnd.RSEQ, "kernel has no rseq");
    private final Fake locked = new Fake(CpuSlab.FrontEnd.LOCKED, null);

    @Test
    void autoPrefersRseqWhereItRuns() {
        assertSame(rseq, FrontEndSelection.select(config(CpuSlab.FrontEnd.AUTO), List.of(locked, rseq)).provider());
    }

    @Test
    void autoFallsBackToLockedAndSaysWhy() {
        var choice = FrontEndSelection.select(config(CpuSlab.FrontEnd.AUTO), List.of(noRseq, locked));
        assertSame(locked, choice.provider());
        assertTrue(choice.reason().contains("kernel has no rseq"), choice.reason());
        var missing = FrontEndSelection.select(config(CpuSlab.FrontEnd.AUTO), List.of(locked));
        assertTrue(missing.reason().contains("allocator-rseq is not on the class path"), missing.reason());
    }

    @Test
    void explicitRseqThatCannotRunFailsWithTheReason() {
        var e = assertThrows(IllegalStateException.class,
                () -> FrontEndSelection.select(config(CpuSlab.FrontEnd.RSEQ), List.of(noRseq, locked)));
        assertTrue(e.getMessage().contains("kernel has no rseq"), e.getMessage());
    }

    @Test
    void explicitLockedIsHonouredEvenWhereRseqRuns() {
        assertSame(locked, FrontEndSelection.select(config(CpuSlab.FrontEnd.LOCKED), List.of(rseq, locked)).provider());
    }

    @Test
    void noFrontEndAtAllIsAClearError() {
        var e = assertThrows(IllegalStateException.class, () -> FrontEndSelection.select(config(CpuSlab.FrontEnd.AUTO), List.of()));
        assertTrue(e.getMessage().contains("allocator-fallback is not on the class path"), e.getMessage());
    }
}
