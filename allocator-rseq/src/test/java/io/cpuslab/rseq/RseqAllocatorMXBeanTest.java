package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorMXBeanTest;

@RequiresRseq
class RseqAllocatorMXBeanTest extends AllocatorMXBeanTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }
}
