package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorContractTest;

class LockedAllocatorContractTest extends AllocatorContractTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.LOCKED;
    }
}
