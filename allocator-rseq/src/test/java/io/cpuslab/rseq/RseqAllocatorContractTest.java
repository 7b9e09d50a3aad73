package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorContractTest;

@RequiresRseq
class RseqAllocatorContractTest extends AllocatorContractTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }
}
