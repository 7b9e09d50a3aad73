package io.cpuslab.core;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Test doubles that cut page heap work short, as a thread dying inside it would: a {@link PageMap}, a
 * {@link NativePageMap} and an {@link OsMemory} (real memory underneath) that count their calls and
 * throw at a chosen one. A call
 * into the page map dies at its entry (and {@code setEnds} between its two {@code set}s, as its own calls
 * come through here too); a call into the OS that changes something dies at its entry or right after its
 * work, before the caller learns of it.
 *
 * <pre>{@code
 * Cuts cuts = new Cuts(17, StackOverflowError::new);   // the 18th call throws
 * PageHeap heap = new PageHeap(cuts.os, cuts.pageMap, Long.MAX_VALUE, false);
 * ...
 * cuts.stop();         // no more cuts; then check what the heap looks like
 * heap.close();
 * cuts.unmapLeft();    // mappings the heap never recorded
 * }</pre>
 */
final class Cuts {
    private final OsMemory real = OsMemory.forThisPlatform();
    private final Map<Long, Long> mapped = new HashMap<>();
    private final int at;
    private final Supplier<Error> error;
    private int calls;
    private Error thrown;
    private boolean stopped;
    private boolean mapFails;

    final PageMap pageMap = new PageMap() {
        @Override
        Span get(long address) {
            call();
            return super.get(address);
        }

        @Override
        void set(long firstPage, long count, Span span) {
            call();
            super.set(firstPage, count, span);
        }

        @Override
        void setEnds(Span run) {
            call();
            super.setEnds(run);
        }
    };

    /** The native mirror of small spans' classes: its own memory is real, its writes can be cut. */
    final NativePageMap classes = new NativePageMap(real) {
        @Override
        void set(long firstPage, long pages, int sizeClass) {
            call();
            super.set(firstPage, pages, sizeClass);
        }

        @Override
        void clear(long firstPage, long pages) {
            call();
            super.clear(firstPage, pages);
        }
    };

    final OsMemory os = new OsMemory() {
        @Override
        public long map(long bytes, long alignment) {
            call();
            if (mapFails) {
                throw new OffHeapExhaustedError("mmap of " + Bytes.format(bytes) + " failed (simulated)");
            }
            long address = real.map(bytes, alignment);
            mapped.put(address, bytes);
            call();
            return address;
        }

        @Override
        public void unmap(long address, long bytes) {
            call();
            mapped.remove(address);
            real.unmap(address, bytes);
            call();
        }

        @Override
        public void release(long address, long bytes) {
            call();
            real.release(address, bytes);
            call();
        }

        @Override
        public boolean adviseHugePages(long address, long bytes) {
            call();
            return real.adviseHugePages(address, bytes);
        }

        @Override
        public boolean canRelease() {
            call();
            return real.canRelease();
        }

        @Override
        public String description() {
            return "cut " + real.description();
        }
    };

    /** @param at the call (from 0) that throws {@code error}; -1 for none, to count the calls */
    Cuts(int at, Supplier<Error> error) {
        this.at = at;
        this.error = error;
    }

    private void call() {
        if (!stopped && calls++ == at) {
            thrown = error.get();
            throw thrown;
        }
    }

    /** The cut, for failure messages: its call number, error and the allocator frames it cut short. */
    @Override
    public String toString() {
        if (thrown == null) {
            return "no cut";
        }
        return "cut at call " + at + " by " + thrown.getClass().getSimpleName() + " in " + Arrays.stream(thrown.getStackTrace())
                .filter(f -> f.getClassName().startsWith("io.cpuslab.core.") && !f.getClassName().startsWith(Cuts.class.getName())
                        && !f.getClassName().contains("Test"))
                .limit(4)
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "." + f.getMethodName() + ":" + f.getLineNumber())
                .collect(Collectors.joining(" < "));
    }

    /** Calls counted so far. */
    int calls() {
        return calls;
    }

    /** No more cuts from now on. */
    void stop() {
        stopped = true;
    }

    /** From now on every map fails like an OS out of address space: the heap can hand out only what it has. */
    void failMaps() {
        mapFails = true;
    }

    /** Unmaps what was mapped and not unmapped: regions a cut kept from being recorded, after the heap's close. */
    void unmapLeft() {
        mapped.forEach(real::unmap);
        mapped.clear();
    }
}
