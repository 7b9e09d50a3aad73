package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorMXBeanTest;

class LockedAllocatorMXBeanTest extends AllocatorMXBeanTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.LOCKED;
    }
}
