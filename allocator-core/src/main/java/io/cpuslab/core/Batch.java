package io.cpuslab.core;

/**
 * What a request for a batch of objects from a {@link TransferCache} or a {@link CentralFreeList} got:
 * {@link Objects} (written to the caller's array), or {@link NoMemory} when not a single one could be had.
 * A batch cut short by the page heap is still {@code Objects}: what was found before it refused is kept.
 * The answer is a small object per batch, beside the batch's own array: the price of a reason that travels
 * with its request rather than through state another thread could overwrite.
 *
 * <pre>{@code
 * switch (transferCache.removeRange(out, 32)) {
 *     case Batch.Objects(int count) -> use(out, count);   // 1 to 32 objects
 *     case NoMemory noMemory -> { return noMemory; }
 * }
 * }</pre>
 */
sealed interface Batch permits Batch.Objects, NoMemory {
    /** {@code count} objects from the start of the caller's range; at least one when any was asked. */
    record Objects(int count) implements Batch {
    }
}
