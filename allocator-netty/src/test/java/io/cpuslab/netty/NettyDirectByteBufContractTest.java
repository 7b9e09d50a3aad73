package io.cpuslab.netty;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;

/** The same contract on Netty's own unpooled direct buffers: a check that fails here is a wrong check. */
class NettyDirectByteBufContractTest extends AbstractByteBufContractTest {

    private static final UnpooledByteBufAllocator NETTY = new UnpooledByteBufAllocator(true);

    @Override
    protected ByteBufAllocator allocator() {
        return NETTY;
    }
}
