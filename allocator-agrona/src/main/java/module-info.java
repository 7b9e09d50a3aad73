/**
 * cpuslab's Agrona and Chronicle Bytes adapters: off-heap buffers and stores whose memory is cpuslab's.
 * Agrona and Chronicle Bytes are automatic modules ({@code org.agrona}, {@code chronicle.bytes}).
 *
 * <pre>{@code
 * module my.app {
 *     requires io.cpuslab.agrona;
 * }
 * }</pre>
 */
module io.cpuslab.agrona {
    requires transitive io.cpuslab;
    requires transitive org.agrona;
    requires transitive chronicle.bytes;
    requires chronicle.core;

    exports io.cpuslab.agrona;
    exports io.cpuslab.chronicle;
}
