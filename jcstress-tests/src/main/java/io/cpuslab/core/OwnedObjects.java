package io.cpuslab.core;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Objects of the shared back-end structures that some test state owns right now. Taking an object
 * that is already owned means it was handed out twice: the JCStress states record that per sample.
 * Package io.cpuslab.core: these tests drive core's internal classes directly.
 */
final class OwnedObjects {
    private static final ConcurrentHashMap<Long, Boolean> OWNED = new ConcurrentHashMap<>();

    private OwnedObjects() {
    }

    /** Marks {@code objects[0..n)} owned; false if any already was. */
    static boolean take(long[] objects, int n) {
        boolean fine = true;
        for (int i = 0; i < n; i++) {
            fine &= OWNED.putIfAbsent(objects[i], Boolean.TRUE) == null;
        }
        return fine;
    }

    static void give(long[] objects, int n) {
        for (int i = 0; i < n; i++) {
            OWNED.remove(objects[i]);
        }
    }
}
