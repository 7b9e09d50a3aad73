package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.FrontEndInfo;
import io.cpuslab.core.AllocatorConfig;
import io.cpuslab.core.AllocatorContractTest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The contract suite on the rseq front end in overlay mode. */
@RequiresOwnRegistration
class OverlayAllocatorContractTest extends AllocatorContractTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    @Override
    protected AllocatorConfig config() {
        return super.config().withRseqMode(CpuSlab.RseqMode.OVERLAY);
    }

    @Override
    protected List<String> forkedSelection() {
        return List.of("-Dcpuslab.frontEnd=RSEQ", "-Dcpuslab.rseqMode=OVERLAY");
    }

    @Test
    void theSuiteRunsInOverlayMode() {
        assertEquals(FrontEndInfo.Kind.RSEQ_OVERLAY, allocator().frontEnd().kind());
    }
}
