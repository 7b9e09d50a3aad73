package io.cpuslab.netty;

import io.cpuslab.CpuSlab;
import io.cpuslab.OffHeapAllocator;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Netty's buffer contract, on cpuslab buffers; checked mode, so a wrong or double free throws. */
class CpuSlabByteBufContractTest extends AbstractByteBufContractTest {

    private static OffHeapAllocator memory;
    private static CpuSlabByteBufAllocator alloc;

    @BeforeAll
    static void createAllocator() {
        memory = CpuSlab.builder().checked(true).build();
        alloc = new CpuSlabByteBufAllocator(memory);
    }

    @AfterAll
    static void closeAllocator() {
        memory.close();
    }

    @Override
    protected ByteBufAllocator allocator() {
        return alloc;
    }
}
