package io.cpuslab;

/**
 * Which front end serves an allocator, and why: what {@link OffHeapAllocator#frontEnd()} returns,
 * what the start-up log line and the stats report print.
 *
 * <pre>{@code
 * FrontEndInfo info = CpuSlab.create().frontEnd();
 * if (info.kind() == FrontEndInfo.Kind.LOCKED) {
 *     System.out.println("no rseq here: " + info.reason());
 * }
 * }</pre>
 *
 * @param kind   the front end
 * @param detail how it works here, e.g. "8 shards chosen by thread hash" or the rseq registration owner
 * @param reason why this one was chosen; names the checks that ruled out faster front ends
 * @param slabs  number of per-CPU slab regions (CPUs for rseq, shards for locked)
 */
public record FrontEndInfo(Kind kind, String detail, String reason, int slabs) {

    /** The front ends; {@link #words()} names each the way reports do. */
    public enum Kind {
        RSEQ_COMPLIANT("rseq compliant"),
        RSEQ_OVERLAY("rseq overlay"),
        LOCKED("locked");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    @Override
    public String toString() {
        return kind.words() + " front end (" + detail + "); " + reason;
    }
}
