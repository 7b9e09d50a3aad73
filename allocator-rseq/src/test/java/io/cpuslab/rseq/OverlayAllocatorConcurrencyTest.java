package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConcurrencyTest;
import io.cpuslab.core.AllocatorConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/** The concurrency suite on the rseq front end in overlay mode (it fails if overlay mode is refused). */
@Tag(OwnRegistration.TAG)
@RequiresRseq
class OverlayAllocatorConcurrencyTest extends AllocatorConcurrencyTest {
    @BeforeAll
    static void ownRegistration() {
        OwnRegistration.require();
    }

    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    @Override
    protected AllocatorConfig config() {
        return super.config().withRseqMode(CpuSlab.RseqMode.OVERLAY);
    }
}
