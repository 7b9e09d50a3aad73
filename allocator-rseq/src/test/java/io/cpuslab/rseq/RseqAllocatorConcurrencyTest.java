package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConcurrencyTest;

@RequiresRseq
class RseqAllocatorConcurrencyTest extends AllocatorConcurrencyTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }
}
