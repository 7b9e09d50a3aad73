package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConcurrencyTest;
import io.cpuslab.core.AllocatorConfig;

/** The concurrency suite with slabs indexed by the kernel's mm_cid instead of the CPU number. */
@RequiresRseq
class MmCidAllocatorConcurrencyTest extends AllocatorConcurrencyTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    @Override
    protected AllocatorConfig config() {
        return super.config().withIndex(CpuSlab.Index.MM_CID);
    }
}
