package io.cpuslab.core;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;

/**
 * A front end of one slab for tests that call an allocator or a cache from one thread: its operations go
 * straight to the layout (only remote work takes the slab's lock), the steps an allocator's construction
 * and close take with it can be made to fail, and a grow can be interrupted by whatever a test stages.
 *
 * <pre>{@code
 * OneSlabProvider provider = new OneSlabProvider();
 * provider.closeFailure = new IllegalStateException("test: close fails");
 * OffHeapAllocator a = new CpuSlabAllocator(config, new FrontEndSelection.Choice(provider, "test"), false);
 * }</pre>
 *
 * <p>Not final: a forked main's provider adds native fast-path entries to it.
 */
class OneSlabProvider implements SlabFrontEndProvider {
    /** Thrown by {@link #create}, after it kept the layout; null for none. */
    volatile RuntimeException createFailure;
    /** Runs in the front end's {@code info()}, which construction calls once the parts are open; may throw. */
    volatile Runnable onInfo;
    /** Thrown by the front end's {@code nativeFlavour()}, which construction calls once; null for none. */
    volatile RuntimeException flavourFailure;
    /** Thrown by the front end's {@code close()} before it does anything; null for none. */
    volatile RuntimeException closeFailure;
    /** The layout {@link #create} was given last, whether or not it made a front end. */
    volatile SlabLayout layout;
    /** The front end made last. */
    volatile OneSlab frontEnd;

    @Override
    public CpuSlab.FrontEnd type() {
        return CpuSlab.FrontEnd.LOCKED;
    }

    @Override
    public String unavailableReason(AllocatorConfig config) {
        return null;
    }

    @Override
    public int slabCount(AllocatorConfig config) {
        return 1;
    }

    @Override
    public SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason, NativePageMap classes) {
        this.layout = layout;
        if (createFailure != null) {
            throw createFailure;
        }
        frontEnd = new OneSlab(layout);
        return frontEnd;
    }

    /** A front end on {@code layout} alone, for tests of the layers below the allocator. */
    static OneSlab on(SlabLayout layout) {
        return new OneSlabProvider().new OneSlab(layout);
    }

    final class OneSlab implements SlabFrontEnd {
        private final SlabLayout layout;
        volatile boolean closed;
        /**
         * Runs inside the next grow, before it commits, and is cleared first: another thread on this slab
         * in between, or (throwing) a thread that dies there.
         */
        volatile Runnable beforeGrow;

        OneSlab(SlabLayout layout) {
            this.layout = layout;
        }

        @Override
        public FrontEndInfo info() {
            Runnable hook = onInfo;
            if (hook != null) {
                hook.run();
            }
            return new FrontEndInfo(FrontEndInfo.Kind.LOCKED, "one slab for tests", "test", 1);
        }

        @Override
        public NativeFastPath.Flavour nativeFlavour() {
            if (flavourFailure != null) {
                throw flavourFailure;
            }
            return null;
        }

        @Override
        public long pop(int sizeClass) {
            return layout.pop(0, sizeClass);
        }

        @Override
        public boolean push(int sizeClass, long address) {
            return layout.push(0, sizeClass, address);
        }

        @Override
        public int currentSlab() {
            return 0;
        }

        @Override
        public int grow(int slab, int sizeClass, int by) {
            Runnable between = beforeGrow;
            if (between != null) {
                beforeGrow = null;
                between.run();
            }
            return layout.grow(slab, sizeClass, by);
        }

        @Override
        public int pushBatch(int slab, int sizeClass, long[] items, int from, int count) {
            return layout.pushBatch(slab, sizeClass, items, from, count);
        }

        @Override
        public int popBatch(int slab, int sizeClass, long[] items, int from, int max) {
            return layout.popBatch(slab, sizeClass, items, from, max);
        }

        @Override
        public long whileStopped(int slab, SlabLayout.Work work, int sizeClass, long arg) {
            return layout.owning(slab, SlabLayout.WAIT, work, sizeClass, arg);
        }

        @Override
        public void close() {
            if (closeFailure != null) {
                throw closeFailure;
            }
            layout.ownForGood(0);
            closed = true;
        }
    }
}
