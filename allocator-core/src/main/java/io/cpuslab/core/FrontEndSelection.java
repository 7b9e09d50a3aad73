package io.cpuslab.core;

import io.cpuslab.CpuSlab;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Picks the front end for a configuration: AUTO takes rseq where it is available, else locked; an
 * explicit choice gets that front end or an {@link IllegalStateException} that says why it cannot run.
 */
final class FrontEndSelection {
    /** The chosen provider and the reason, in words, that goes into {@code frontEnd()}. */
    record Choice(SlabFrontEndProvider provider, String reason) {
    }

    private FrontEndSelection() {
    }

    static Choice select(AllocatorConfig config) {
        return select(config, ServiceLoader.load(SlabFrontEndProvider.class, FrontEndSelection.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList());
    }

    static Choice select(AllocatorConfig config, List<SlabFrontEndProvider> found) {
        List<SlabFrontEndProvider> providers = new ArrayList<>(found);
        providers.sort(Comparator.comparing(SlabFrontEndProvider::type)); // RSEQ before LOCKED
        CpuSlab.FrontEnd wanted = config.frontEnd();
        List<String> ruledOut = new ArrayList<>();
        for (CpuSlab.FrontEnd type : List.of(CpuSlab.FrontEnd.RSEQ, CpuSlab.FrontEnd.LOCKED)) {
            if (wanted != CpuSlab.FrontEnd.AUTO && wanted != type) {
                continue;
            }
            SlabFrontEndProvider provider = providers.stream().filter(p -> p.type() == type).findFirst().orElse(null);
            String why = provider == null ? moduleMissing(type) : provider.unavailableReason(config);
            if (why == null) {
                String reason = wanted == CpuSlab.FrontEnd.AUTO
                        ? (ruledOut.isEmpty() ? "chosen by AUTO" : "chosen by AUTO because " + String.join("; ", ruledOut))
                        : "requested with frontEnd=" + wanted;
                return new Choice(provider, reason);
            }
            ruledOut.add(type.name().toLowerCase() + " unavailable: " + why);
        }
        throw new IllegalStateException("cpuslab: no front end can run with frontEnd=" + wanted + ": "
                + String.join("; ", ruledOut));
    }

    private static String moduleMissing(CpuSlab.FrontEnd type) {
        return "module allocator-" + (type == CpuSlab.FrontEnd.RSEQ ? "rseq" : "fallback") + " is not on the class path";
    }
}
