package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConcurrencyTest;

class LockedAllocatorConcurrencyTest extends AllocatorConcurrencyTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.LOCKED;
    }
}
