package io.cpuslab.rseq;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** The tests' native helper library (src/test/c/cpuslab_rseq_test.c), built for the host. */
final class RseqTestLibrary {
    static final MethodHandle STORM_ENLIST;
    static final MethodHandle STORM_START;
    static final MethodHandle STORM_STOP;
    static final MethodHandle REGISTER_FOREIGN_AREA;

    static {
        try {
            Path library = Path.of(RseqTestLibrary.class.getResource("/META-INF/native/" + NativeFiles.platform() + "/libcpuslab_rseq_test.so").toURI());
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
            Linker linker = Linker.nativeLinker();
            STORM_ENLIST = linker.downcallHandle(lookup.findOrThrow("cpuslab_test_storm_enlist"), FunctionDescriptor.ofVoid());
            STORM_START = linker.downcallHandle(lookup.findOrThrow("cpuslab_test_storm_start"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            STORM_STOP = linker.downcallHandle(lookup.findOrThrow("cpuslab_test_storm_stop"), FunctionDescriptor.of(ValueLayout.JAVA_LONG));
            REGISTER_FOREIGN_AREA = linker.downcallHandle(lookup.findOrThrow("cpuslab_test_register_foreign_area"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
        } catch (IOException | URISyntaxException | RuntimeException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private RseqTestLibrary() {
    }
}
