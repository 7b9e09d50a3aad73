package io.cpuslab.rseq;

import io.cpuslab.CpuSlab;
import io.cpuslab.core.AllocatorConfig;
import io.cpuslab.core.NativeFastPath;
import io.cpuslab.core.NativePageMap;
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
 * names the failed check. Overlay mode ({@link OverlayFrontEnd}) additionally needs its own refusal
 * to be null: requested with {@code frontEnd=RSEQ} it runs or {@code create} throws naming the failed
 * check; with AUTO it falls back to compliant mode and the reason says why.
 */
public final class RseqFrontEndProvider implements SlabFrontEndProvider {
    @Override
    public CpuSlab.FrontEnd type() {
        return CpuSlab.FrontEnd.RSEQ;
    }

    /** Overlay mode asked for explicitly (frontEnd=RSEQ) must run or fail; with AUTO it is a preference. */
    @Override
    public String unavailableReason(AllocatorConfig config) {
        if (RseqLibrary.UNAVAILABLE != null) {
            return RseqLibrary.UNAVAILABLE;
        }
        if (config.index() == CpuSlab.Index.MM_CID && !RseqLibrary.mmCidAvailable()) {
            return "index=MM_CID needs a registration that covers mm_cid (Linux >= 6.3)";
        }
        return overlayDemanded(config) ? OverlayFrontEnd.refusal() : null;
    }

    @Override
    public int slabCount(AllocatorConfig config) {
        return possibleCpus();
    }

    /** The one-call malloc and free (and bulk forms), where the library loaded and its probes passed. */
    @Override
    public NativeFastPath.Entries nativeFastPath() {
        return RseqLibrary.UNAVAILABLE != null ? null
                : new NativeFastPath.Entries(RseqLibrary.MALLOC, RseqLibrary.FREE, RseqLibrary.MALLOC_BULK, RseqLibrary.FREE_BULK);
    }

    @Override
    public SlabFrontEnd create(SlabLayout layout, AllocatorConfig config, String reason, NativePageMap classes) {
        if (config.rseqMode() != CpuSlab.RseqMode.OVERLAY) {
            return new RseqFrontEnd(layout, config.index(), reason, classes);
        }
        String refusal = OverlayFrontEnd.refusal();
        if (refusal == null || overlayDemanded(config)) {
            try {
                return OverlayFrontEnd.create(layout, config.index(), reason + ", rseqMode=OVERLAY", classes);
            } catch (IllegalStateException e) {
                if (overlayDemanded(config)) {
                    throw e;
                }
                refusal = e.getMessage(); // another allocator took overlay mode since refusal() looked
            }
        }
        return new RseqFrontEnd(layout, config.index(), reason + "; rseqMode=OVERLAY preferred but refused, running compliant: " + refusal,
                classes);
    }

    private static boolean overlayDemanded(AllocatorConfig config) {
        return config.rseqMode() == CpuSlab.RseqMode.OVERLAY && config.frontEnd() == CpuSlab.FrontEnd.RSEQ;
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
