package io.cpuslab.rseq;

import org.junit.jupiter.api.Assertions;

/**
 * Tests tagged {@value #TAG} (by {@link RequiresOwnRegistration}) run in the surefire execution of that
 * name, whose JVM starts with {@code GLIBC_TUNABLES=glibc.pthread.rseq=0}: cpuslab registers its own
 * 32-byte rseq area, which overlay mode needs.
 */
final class OwnRegistration {
    static final String TAG = "own-registration";
    static final java.util.Map<String, String> ENVIRONMENT = java.util.Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0");

    private OwnRegistration() {
    }

    /** Fails (not skips) when the JVM was started without the tunable: the build is then misconfigured. */
    static void require() {
        Assertions.assertNull(RseqLibrary.UNAVAILABLE, "rseq unavailable");
        Assertions.assertFalse(RseqLibrary.glibcOwnsRegistration(),
                "this test class must run in the own-registration execution (GLIBC_TUNABLES=glibc.pthread.rseq=0)");
        Assertions.assertEquals(32, RseqLibrary.OWN_LENGTH);
    }
}
