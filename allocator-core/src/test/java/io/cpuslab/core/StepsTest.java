package io.cpuslab.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepsTest {
    @Test
    void everyStepRunsAndTheFirstFailureCarriesTheLaterOnes() {
        List<String> ran = new ArrayList<>();
        IllegalStateException first = new IllegalStateException("first");
        IllegalArgumentException second = new IllegalArgumentException("second");
        Steps steps = new Steps(null);
        assertFalse(steps.run(() -> { ran.add("a"); throw first; }));
        assertTrue(steps.run(() -> ran.add("b")));
        assertFalse(steps.run(() -> { ran.add("c"); throw second; }));
        assertEquals(List.of("a", "b", "c"), ran);
        assertSame(first, assertThrows(IllegalStateException.class, steps::rethrow));
        assertEquals(List.of(second), List.of(first.getSuppressed()));
    }

    /** As a preallocated OutOfMemoryError would be: the same object from two steps. */
    @Test
    void theSameErrorFromTwoStepsIsThrownOnceAndDoesNotStopTheSteps() {
        Error again = new OutOfMemoryError("preallocated");
        Steps steps = new Steps(null);
        steps.run(() -> { throw again; });
        steps.run(() -> { throw again; });
        assertTrue(steps.run(() -> { }), "the step after still runs");
        assertSame(again, assertThrows(OutOfMemoryError.class, steps::rethrow));
        assertEquals(0, again.getSuppressed().length);
    }

    @Test
    void stepsAfterAFailureTheyFollowAddTheirsToIt() {
        RuntimeException cause = new RuntimeException("construction failed");
        Steps rollback = new Steps(cause);
        IllegalStateException unmap = new IllegalStateException("munmap failed");
        rollback.run(() -> { throw unmap; });
        assertEquals(List.of(unmap), List.of(cause.getSuppressed()));
        assertSame(cause, assertThrows(RuntimeException.class, rollback::rethrow));
    }

    @Test
    void noFailureNoThrow() {
        Steps steps = new Steps(null);
        steps.run(() -> { });
        steps.rethrow();
    }
}
