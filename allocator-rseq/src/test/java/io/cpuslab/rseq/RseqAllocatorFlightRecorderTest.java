package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorFlightRecorderTest;

@RequiresRseq
class RseqAllocatorFlightRecorderTest extends AllocatorFlightRecorderTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }
}
