/**
 * cpuslab: a TCMalloc-style per-CPU off-heap memory allocator. The API is the package {@code io.cpuslab};
 * the back end ({@code io.cpuslab.core}) is exported only to the front ends, which this module finds as
 * services. On the module path, start the JVM with
 * {@code --enable-native-access=io.cpuslab,io.cpuslab.rseq}: this module maps memory, and the rseq
 * front end calls its native library, through FFM.
 *
 * <pre>{@code
 * module my.app {
 *     requires io.cpuslab;
 * }
 * }</pre>
 */
module io.cpuslab {
    // Observability: JFR events and an MXBean per allocator (both work without these at run time too).
    requires jdk.jfr;
    requires java.management;

    exports io.cpuslab;
    exports io.cpuslab.core to io.cpuslab.rseq, io.cpuslab.fallback;

    uses io.cpuslab.core.SlabFrontEndProvider;
    // CpuSlab reaches its implementation through this service, so the API package names no class of the back end.
    uses io.cpuslab.CpuSlab.Backend;
    provides io.cpuslab.CpuSlab.Backend with io.cpuslab.core.CpuSlabBackend;
}
