package io.cpuslab.rseq;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test class that needs cpuslab's own rseq registration, as overlay mode does: it runs in the surefire
 * execution tagged {@value OwnRegistration#TAG}, only where rseq runs ({@link RequiresRseq}), and fails
 * there, not skips, if that JVM was started without the tunable ({@link OwnRegistration#require()}).
 *
 * <pre>{@code
 * @RequiresOwnRegistration
 * class OverlayTortureTest { ... }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag(OwnRegistration.TAG)
@RequiresRseq
@ExtendWith(RequiresOwnRegistration.Check.class)
@interface RequiresOwnRegistration {
    final class Check implements BeforeAllCallback {
        @Override
        public void beforeAll(ExtensionContext context) {
            OwnRegistration.require();
        }
    }
}
