package io.cpuslab.fallback;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConfig;
import io.cpuslab.core.NativePageMap;
import io.cpuslab.core.SlabFrontEnd;
import io.cpuslab.core.SlabFrontEndProvider;
import io.cpuslab.core.SlabLayout;

/** Registers the {@link LockedFrontEnd} with {@link java.util.ServiceLoader}; available everywhere. */
public final class LockedFrontEndProvider implements SlabFrontEndProvider {
    @Override
    public CpuSlab.FrontEnd type() {
        return CpuSlab.FrontEnd.LOCKED;
    }

    @Override
    public String unavailableReason(AllocatorConfig config) {
        return null;
    }

    @Override
    public int slabCount(AllocatorConfig config) {
        return LockedFrontEnd.shardCount();
    }

    @Override
    public SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason, NativePageMap classes) {
        return new LockedFrontEnd(layout, reason);
    }
}
