package io.cpuslab.rseq;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A test that needs the rseq native library running: skipped, with the reason, where it cannot be built
 * or cannot run (another OS, no C compiler at build time, a kernel without rseq or membarrier-RSEQ), so
 * that {@code ./mvnw verify} passes there. Anywhere the library is built and the kernel has both, the
 * test runs, and a library that then fails to load or to prove its aborts fails it: that is a bug,
 * never a reason to skip.
 *
 * <pre>{@code
 * @RequiresRseq
 * class RseqTortureTest { ... }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(RequiresRseq.Condition.class)
@interface RequiresRseq {
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            String why = whyNot();
            return why == null ? ConditionEvaluationResult.enabled("rseq runs here")
                    : ConditionEvaluationResult.disabled("rseq test skipped: " + why);
        }

        /** Null where the library is built and the kernel has what it needs; else why not. */
        static String whyNot() {
            String platform;
            try {
                platform = NativeFiles.platform();
            } catch (IOException e) {
                return e.getMessage();
            }
            if (RequiresRseq.class.getResource("/META-INF/native/" + platform + "/" + RseqLibrary.bundledName()) == null) {
                return "the native library was not built for " + platform + " (no C compiler at build time, or a CPU it does not support)";
            }
            int status = RseqLibrary.STATUS;
            if ((status & RseqLibrary.STATUS_NO_RSEQ) != 0 || (status & RseqLibrary.STATUS_NO_MEMBARRIER) != 0) {
                return RseqLibrary.UNAVAILABLE;
            }
            return null;
        }
    }
}
