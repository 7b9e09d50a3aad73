package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorFlightRecorderTest;

class LockedAllocatorFlightRecorderTest extends AllocatorFlightRecorderTest {
    @Override
    protected CpuSlab.FrontEnd frontEnd() {
        return CpuSlab.FrontEnd.LOCKED;
    }
}
