package io.cpuslab.core;

import io.cpuslab.OffHeapAllocator;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random sequences of API calls, good and bad mixed, against one allocator with a memory limit, and a
 * model of what each must do: negative sizes and bad alignments throw {@link IllegalArgumentException},
 * sizes beyond the limit {@link OutOfMemoryError}, frees of foreign, interior (and, in checked mode,
 * already freed or wrongly sized) addresses {@link IllegalArgumentException}; every good call succeeds
 * (sized frees with the size last asked or the usable size; aligned blocks go back unsized).
 * A rejected call must leave the bytes in use unchanged. Unchecked mode cannot tell a freed small block
 * from a live one, so only checked runs free twice.
 *
 * <pre>{@code
 * String failure = new BadInputFuzz(allocator, limit, checked, seed).run(20_000);   // null when all went as the model says
 * }</pre>
 */
final class BadInputFuzz {
    private static final long ALIGNMENT_OR_SIZE_LIMIT = 1 << 20;
    private static final int MAX_LIVE = 200;

    private final OffHeapAllocator a;
    private final long memoryLimit;
    private final boolean checked;
    private final SplittableRandom random;
    /** Address to requested size, for every block the model says is allocated. */
    private final Map<Long, Long> live = new HashMap<>();
    private final List<Long> liveList = new ArrayList<>();
    private final List<Long> freed = new ArrayList<>();
    /** Live blocks from mallocAligned: only unsized free may take them back. */
    private final Set<Long> aligned = new HashSet<>();
    private final long[] foreign;
    private final StringBuilder trace = new StringBuilder();
    private int goodCalls;
    private int badCalls;

    BadInputFuzz(OffHeapAllocator allocator, long memoryLimit, boolean checked, long seed, Arena foreignMemory) {
        this.a = allocator;
        this.memoryLimit = memoryLimit;
        this.checked = checked;
        this.random = new SplittableRandom(seed);
        this.foreign = new long[] {foreignMemory.allocate(64).address(), foreignMemory.allocate(1 << 20).address(), 8, 0x1000,
                -8, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 47, 1L << 48, 0xDEAD_BEEF_000L};
    }

    int goodCalls() {
        return goodCalls;
    }

    int badCalls() {
        return badCalls;
    }

    /** Runs {@code steps} random calls; null when every one did what the model says, else what went wrong. */
    String run(int steps) {
        for (int i = 0; i < steps; i++) {
            String wrong = step();
            if (wrong != null) {
                return wrong + "; last calls:\n" + trace;
            }
        }
        for (long p : liveList) {
            a.free(p);
        }
        liveList.clear();
        live.clear();
        return null;
    }

    private String step() {
        int op = random.nextInt(9);
        if (trace.length() > 2000) {
            trace.delete(0, trace.length() - 2000);
        }
        return switch (op) {
            case 0, 1 -> {
                long size = size();
                trace.append("malloc(").append(size).append(")\n");
                yield expect(expectedForSize(size), () -> remember(a.malloc(size), size));
            }
            case 2 -> {
                long size = size();
                long alignment = random.nextInt(4) == 0 ? random.nextLong(-5, 100) : 1L << random.nextInt(22);
                boolean badAlignment = alignment <= 0 || (alignment & (alignment - 1)) != 0;
                trace.append("mallocAligned(").append(size).append(", ").append(alignment).append(")\n");
                yield expect(badAlignment ? IllegalArgumentException.class : expectedForSize(size), () -> {
                    long p = a.mallocAligned(size, alignment);
                    if (p % alignment != 0) {
                        throw new AssertionError("0x" + Long.toHexString(p) + " not aligned to " + alignment);
                    }
                    remember(p, size);
                    aligned.add(p);
                });
            }
            case 3, 4 -> liveList.isEmpty() ? null : goodFree();
            case 5 -> {
                long address = foreign[random.nextInt(foreign.length)];
                trace.append("free(foreign 0x").append(Long.toHexString(address)).append(")\n");
                yield expect(IllegalArgumentException.class, () -> a.free(address));
            }
            case 6 -> {
                if (liveList.isEmpty()) {
                    yield null;
                }
                long p = liveList.get(random.nextInt(liveList.size()));
                long interior = p + 1 + random.nextLong(Math.max(1, a.usableSize(p) - 1));
                trace.append("free(interior 0x").append(Long.toHexString(interior)).append(")\n");
                yield expect(IllegalArgumentException.class, () -> a.free(interior));
            }
            case 7 -> {
                if (!checked || freed.isEmpty()) {
                    yield null;
                }
                long q = freed.get(random.nextInt(freed.size()));
                if (live.containsKey(q)) {
                    yield null; // handed out again since: freeing it now is right
                }
                trace.append("free(freed 0x").append(Long.toHexString(q)).append(")\n");
                yield expect(IllegalArgumentException.class, () -> a.free(q));
            }
            default -> {
                if (liveList.isEmpty()) {
                    yield null;
                }
                int index = random.nextInt(liveList.size());
                long p = liveList.get(index);
                long newSize = size();
                trace.append("realloc(0x").append(Long.toHexString(p)).append(", ").append(newSize).append(")\n");
                yield expect(expectedForSize(newSize), () -> {
                    long q = a.realloc(p, newSize);
                    forget(index);
                    remember(q, newSize);
                });
            }
        };
    }

    private String goodFree() {
        int index = random.nextInt(liveList.size());
        long p = liveList.get(index);
        long size = live.get(p);
        boolean wrongSize = checked && random.nextInt(4) == 0;
        long given = wrongSize ? a.usableSize(p) + 1 + random.nextInt(1 << 20) : random.nextBoolean() ? size : a.usableSize(p);
        boolean sized = random.nextBoolean() && (wrongSize || !aligned.contains(p));
        trace.append(sized ? "freeSized(0x" : "free(0x").append(Long.toHexString(p)).append(sized ? ", " + given : "").append(")\n");
        if (wrongSize && sized) {
            return expect(IllegalArgumentException.class, () -> a.freeSized(p, given));
        }
        return expect(null, () -> {
            if (sized) {
                a.freeSized(p, given);
            } else {
                a.free(p);
            }
            forget(index);
            freed.add(p);
        });
    }

    /** Negative, huge (beyond the limit), zero, small or large, up to 1 MiB. */
    private long size() {
        return switch (random.nextInt(10)) {
            case 0 -> -1 - random.nextLong(Long.MAX_VALUE);
            case 1 -> memoryLimit + random.nextLong(Long.MAX_VALUE - memoryLimit);
            case 2 -> 0;
            case 3 -> 256 * 1024 + random.nextLong(ALIGNMENT_OR_SIZE_LIMIT);
            default -> random.nextLong(4097);
        };
    }

    private Class<? extends Throwable> expectedForSize(long size) {
        if (size < 0) {
            return IllegalArgumentException.class;
        }
        if (size > memoryLimit) {
            return OutOfMemoryError.class;
        }
        return null;
    }

    private void remember(long p, long size) {
        if (live.putIfAbsent(p, size) != null) {
            throw new AssertionError("0x" + Long.toHexString(p) + " handed out while live");
        }
        liveList.add(p);
        if (liveList.size() > MAX_LIVE) {
            long old = liveList.removeFirst();
            live.remove(old);
            aligned.remove(old);
            a.free(old);
            freed.add(old);
        }
    }

    private void forget(int index) {
        live.remove(liveList.get(index));
        aligned.remove(liveList.get(index));
        liveList.set(index, liveList.getLast());
        liveList.removeLast();
    }

    /** Runs {@code call}: it must throw {@code expected} (or succeed when null); a rejected call changes nothing. */
    private String expect(Class<? extends Throwable> expected, Runnable call) {
        long before = expected == null ? 0 : a.stats().applicationBytes();
        try {
            call.run();
        } catch (Throwable t) {
            if (expected == null || !expected.isInstance(t)) {
                return "unexpected " + t + (expected == null ? "" : " (expected " + expected.getSimpleName() + ")");
            }
            if (t.getMessage() == null || t.getMessage().isEmpty()) {
                return "no message in " + t;
            }
            badCalls++;
            long after = a.stats().applicationBytes();
            return after == before ? null : "a rejected call changed the bytes in use from " + before + " to " + after + ": " + t;
        }
        if (expected != null) {
            return "no " + expected.getSimpleName();
        }
        goodCalls++;
        return null;
    }
}
