package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConfig;
import io.cpuslab.core.SlabFrontEnd;
import io.cpuslab.core.SlabFrontEndProvider;
import io.cpuslab.core.SlabLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Registers the {@link RseqFrontEnd} with {@link java.util.ServiceLoader}. Available when the native
 * library loads for this OS and CPU, rseq is registered (glibc's or our own), membarrier-RSEQ works
 * and the abort probes passed (preemption, and a membarrier fence); otherwise {@link #unavailableReason}
 * names the failed check.
 */
public final class RseqFrontEndProvider implements SlabFrontEndProvider {
    @Override
    public CpuSlab.FrontEnd type() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    @Override
    public String unavailableReason(AllocatorConfig config) {
        if (config.rseqMode() == CpuSlab.RseqMode.OVERLAY && config.frontEnd() == CpuSlab.FrontEnd.RSEQ) {
            return "overlay mode is not available in this build (only compliant mode is)";
        }
        if (RseqLibrary.UNAVAILABLE != null) {
            return RseqLibrary.UNAVAILABLE;
        }
        if (config.index() == CpuSlab.Index.MM_CID && !RseqLibrary.mmCidAvailable()) {
            return "index=MM_CID needs a registration that covers mm_cid (Linux >= 6.3)";
        }
        return null;
    }

    @Override
    public int slabCount(AllocatorConfig config) {
        return possibleCpus();
    }

    @Override
    public SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason) {
        String why = config.rseqMode() == CpuSlab.RseqMode.OVERLAY
                ? reason + "; overlay mode requested but not available in this build, running compliant" : reason;
        return new RseqFrontEnd(layout, config.index(), why);
    }

    /**
     * CPU numbers the kernel may report: from {@code /sys/devices/system/cpu/possible} (e.g. "0-3,6"),
     * not the online or available count (TCMalloc #188: offline CPUs still have numbers). mm_cid values
     * stay below the same bound.
     */
    static int possibleCpus() {
        try {
            String text = Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim();
            int highest = 0;
            for (String range : text.split(",")) {
                String last = range.contains("-") ? range.substring(range.indexOf('-') + 1) : range;
                highest = Math.max(highest, Integer.parseInt(last.trim()));
            }
            return highest + 1;
        } catch (IOException | RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }
}
