package io.cpuslab.core;

/**
 * Steps taken in turn whatever the ones before threw, as taking things down needs: the first failure
 * is kept, the later ones are suppressed in it.
 *
 * <pre>{@code
 * Steps steps = new Steps(null);
 * steps.run(first::close);
 * steps.run(second::close);   // also when first's close threw
 * steps.rethrow();            // the first failure, with the later ones suppressed in it
 * }</pre>
 */
final class Steps {
    private Throwable failure;

    /** @param failure what the steps are taken after, which gets their failures; null for none */
    Steps(Throwable failure) {
        this.failure = failure;
    }

    /** Runs {@code step}; whether it completed. */
    boolean run(Runnable step) {
        try {
            step.run();
            return true;
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                failure = e;
            } else if (e != failure) { // the JVM may throw one preallocated error again; nothing suppresses itself
                failure.addSuppressed(e);
            }
            return false;
        }
    }

    /** Throws the first failure, if a step failed. */
    void rethrow() {
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw (RuntimeException) failure;
        }
    }
}
