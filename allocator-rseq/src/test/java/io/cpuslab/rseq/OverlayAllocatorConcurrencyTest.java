package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConcurrencyTest;
import io.cpuslab.core.AllocatorConfig;

/** The concurrency suite on the rseq front end in overlay mode (it fails if overlay mode is refused). */
@RequiresOwnRegistration
class OverlayAllocatorConcurrencyTest extends AllocatorConcurrencyTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    @Override
    protected AllocatorConfig config() {
        return super.config().withRseqMode(CpuSlab.RseqMode.OVERLAY);
    }
}
