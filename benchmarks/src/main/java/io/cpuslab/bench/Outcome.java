package io.cpuslab.bench;

/**
 * One workload's result for one peer: nanoseconds per operation with JMH's 99.9% error, or a note
 * saying why there is no number (not applicable to this peer, or failed).
 *
 * <pre>{@code
 * Outcome o = Outcome.measured(8.78, 0.07);
 * }</pre>
 */
public record Outcome(double nanos, double errorNanos, String note) {
    public static Outcome measured(double nanos, double errorNanos) {
        return new Outcome(nanos, errorNanos, null);
    }

    public static Outcome notRun(String why) {
        return new Outcome(Double.NaN, Double.NaN, why);
    }

    public boolean hasNumber() {
        return note == null;
    }
}
