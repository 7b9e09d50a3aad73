package io.cpuslab.core;

/**
 * What an allocator does to a block besides moving it between the caller and its caches: nothing
 * ({@link #UNCHECKED}), or checked mode's validation ({@link CheckedBlocks}). The allocator's slow path
 * calls the policy at each step a block takes, unconditionally:
 *
 * <pre>{@code
 * long address = frontEnd.pop(sc);        // malloc: a block from the caches (or, on a miss, from behind them)
 * return blocks.handOut(address, size);   // unchecked: address as it is; checked: marked, verified, canary armed
 *
 * blocks.verify(span, address, "free");   // free: checked mode throws for a double free or an overrun
 * blocks.takeBack(span, address);         // then marks it freed and poisons it, before it reaches a cache
 * }</pre>
 *
 * <h2>Why two implementations instead of a flag</h2>
 * The policy is chosen once, when the allocator is made, and held in a final field: the allocator's
 * paths call it and never test for checked mode, and all of checked mode is in one class. At a call site
 * that has only seen one implementation the JIT inlines the call behind a class check that always
 * passes, so an unchecked allocator runs the empty bodies below, which compile to nothing. The check
 * costs what testing a boolean flag would (a load and a compare); what it buys is one slow path for both
 * modes with no checked-mode code in it. Where a process also runs a checked allocator, the call sites
 * both use see two classes, which HotSpot still inlines, behind two checks. This rests on how HotSpot
 * compiles such calls; it was not measured.
 *
 * <p>The canary's size is a field, not a call: requests add it to the size asked, and for an unchecked
 * allocator it is 0, so that costs no branch either.
 *
 * <p>Guarded blocks never reach a policy: they are {@link GuardedBlocks}', whose guard page bounds them
 * (no canary, and a canary after a block grown to its page would be written into the guard page).
 */
abstract sealed class BlockPolicy permits BlockPolicy.Unchecked, CheckedBlocks {
    /** The policy of an allocator that is not in checked mode: blocks are only moved, never looked at. */
    static final BlockPolicy UNCHECKED = new Unchecked();

    /** Bytes each block holds after the size asked (checked mode's canary); 0 when unchecked. */
    final long canaryBytes;

    BlockPolicy(long canaryBytes) {
        this.canaryBytes = canaryBytes;
    }

    /**
     * A small block on its way to the caller, who asked for {@code size} bytes; returns {@code address}.
     * The allocator has it from a cache, of the class that fits {@code size + canaryBytes}.
     */
    abstract long handOut(long address, long size);

    /** A large block (the start of {@code span}) on its way to the caller, who asked for {@code size} bytes. */
    abstract void handOutLarge(Span span, long size);

    /**
     * A block the caller named in {@code call}: the start of a block (not guarded) in the in-use
     * {@code span}, as far as the page map can tell. Throws if the policy finds it is not a block the
     * caller may use.
     */
    abstract void verify(Span span, long address, String call);

    /** A small block given back, already verified, before it reaches any cache. */
    abstract void takeBack(Span span, long address);

    /** What the caller may use of a block that is not guarded (guarded blocks are {@link GuardedBlocks}'). */
    abstract long usable(Span span, long address);

    /** A block (not guarded) realloc keeps in place, now of {@code newSize} bytes (at most what it could use before). */
    abstract void resize(Span span, long address, long newSize);

    /**
     * Blocks only moved: every step does nothing, and a block's usable size is all of it
     * ({@code UNCHECKED.handOut(address, 100) == address}; {@code usable} of a 112-byte class is 112).
     */
    private static final class Unchecked extends BlockPolicy {
        private Unchecked() {
            super(0);
        }

        @Override
        long handOut(long address, long size) {
            return address;
        }

        @Override
        void handOutLarge(Span span, long size) {
        }

        @Override
        void verify(Span span, long address, String call) {
        }

        @Override
        void takeBack(Span span, long address) {
        }

        @Override
        long usable(Span span, long address) {
            return span.sizeClass == 0 ? span.bytes() : SizeClasses.size(span.sizeClass);
        }

        @Override
        void resize(Span span, long address, long newSize) {
        }
    }
}
