/**
 * cpuslab's Netty adapter: a {@code ByteBufAllocator} whose direct buffers are cpuslab blocks.
 *
 * <pre>{@code
 * module my.server {
 *     requires io.cpuslab.netty;
 * }
 * }</pre>
 */
module io.cpuslab.netty {
    requires transitive io.cpuslab;
    requires transitive io.netty.buffer;

    exports io.cpuslab.netty;
}
