/*
 * cpuslab rseq critical sections, aarch64, compliant and overlay mode: the same sections, contracts and
 * pattern as rseq_x86_64.S (read that file's header and its overlay contract first):
 *   arm (rseq->rseq_cs = &descriptor), start, checks, work, ONE commit store; abort restarts.
 *
 * aarch64 specifics:
 *   - The rseq area is tpidr_el0 + cpuslab_rseq_offset, computed into x8 before arming; it cannot
 *     change during the call (a native call never moves to another OS thread).
 *   - The stop word is loaded with ldar (acquire): after core's release store that clears it, the
 *     header and slot loads that follow must not be satisfied from before it. x86 gives that for free.
 *   - The signature before each abort handler is the instruction BRK #0x45e0, so falling into it traps.
 *   - x16/x17 are never used: a linker veneer may clobber them.
 * Registers: x0-x7 arguments and scratch, x8 rseq area, x9 scratch, w10 slab index, x11 slab region,
 * x12-x15 scratch; in the compliant sections x13 holds the index field offset for the self-check.
 */
#include "cpuslab_rseq.h"

    .section .note.GNU-stack, "", %progbits
    .arch armv8-a

.macro RSEQ_ABORT_HANDLER name, restart
    .inst RSEQ_SIG
\name\()_abort:
    b \restart
.endm

/* x8 = this thread's rseq area. */
.macro RSEQ_AREA
    mrs x8, tpidr_el0
    adrp x9, cpuslab_rseq_offset
    ldr x9, [x9, :lo12:cpuslab_rseq_offset]
    add x8, x8, x9
.endm

.macro RSEQ_ARM name
    adrp x9, \name\()_rseq_cs
    add x9, x9, :lo12:\name\()_rseq_cs
    str x9, [x8, #RSEQ_CS_OFFSET]
.endm

/* Inside a section: w10 = slab index, x11 = region, x14 = &header[x1], or branch to \miss.
 * Needs x0 = descriptor, x1 = size class (zero-extended), x8 = area; clobbers w9, w12, x13. */
.macro SLAB_REGION miss
    ldr w9, [x8, #RSEQ_CPU_ID_OFFSET]
    ldr w12, [x0, #DESC_NSLABS]
    cmp w9, w12                         /* unsigned: -1/-2 and closed (nslabs 0) miss too */
    b.hs \miss
    ldr w13, [x0, #DESC_INDEX_FIELD]
    ldr w10, [x8, x13]                  /* cpu_id or mm_cid */
    cmp w10, w12
    b.hs \miss
    ldr x11, [x0, #DESC_BASE]
    add x11, x11, x10, lsl #SLAB_SHIFT
    ldar w9, [x11]                      /* stop word (offset 0), acquire */
    cbnz w9, \miss
    add x14, x11, #SLAB_HEADER_OFFSET
    add x14, x14, x1, lsl #2
.endm

/* Self-check build: spin cpuslab_rseq_inject_loops times, then the index must still be w10. */
.macro SELF_CHECK
#ifdef CPUSLAB_SELF_CHECK
    adrp x9, cpuslab_rseq_inject_loops
    ldr w9, [x9, :lo12:cpuslab_rseq_inject_loops]
2:
    cbz w9, 3f
    sub w9, w9, #1
    b 2b
3:
    ldr w9, [x8, x13]
    cmp w9, w10
    b.eq 1f
    brk #0x1
1:
#endif
.endm

    .text

/* Pop and push, compliant and overlay: one body each. \region sets x11 (region) and x14 (&header[sc])
 * or branches to the miss label (SLAB_REGION, or overlay's CACHED_REGION); \check is the self-check
 * build's test right before the commit (SELF_CHECK, or OVERLAY_SELF_CHECK). */
.macro POP_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 4
\symbol:
    RSEQ_AREA
    mov w1, w1
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    ldrh w15, [x14]                     /* current */
    add x9, x0, #DESC_BEGIN
    ldrh w12, [x9, x1, lsl #1]          /* begin */
    cmp w15, w12
    b.ls .L\name\()_miss
    sub w15, w15, #1
    ldr x2, [x11, x15, lsl #3]          /* the object */
    \check
    strh w15, [x14]                     /* commit */
.L\name\()_post_commit:
    mov x0, x2
    ret
.L\name\()_miss:
    mov x0, #0
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
    .size \symbol, . - \symbol
.endm

.macro PUSH_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 4
\symbol:
    RSEQ_AREA
    mov w1, w1
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    ldr w15, [x14]                      /* current | end << 16 */
    and w12, w15, #0xffff               /* current */
    lsr w15, w15, #16                   /* end */
    cmp w12, w15
    b.hs .L\name\()_miss
    str x2, [x11, x12, lsl #3]
    add w12, w12, #1
    \check
    strh w12, [x14]                     /* commit */
.L\name\()_post_commit:
    mov w0, #1
    ret
.L\name\()_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
    .size \symbol, . - \symbol
.endm

/* long cpuslab_rseq_pop(const desc *d [x0], int sc [w1]): see rseq_x86_64.S. Commit: strh of current - 1. */
    POP_SECTION cpuslab_rseq_pop, pop, SLAB_REGION, SELF_CHECK

/* int cpuslab_rseq_push(const desc *d [x0], int sc [w1], long item [x2]). Commit: strh of current + 1. */
    PUSH_SECTION cpuslab_rseq_push, push, SLAB_REGION, SELF_CHECK

/* int cpuslab_rseq_push_batch(const desc *d [x0], int sc [w1], const long *items [x2], int n [w3],
 *                             int expected [w4]). Commit: strh of current + k. */
    .globl cpuslab_rseq_push_batch
    .type cpuslab_rseq_push_batch, %function
    .p2align 4
cpuslab_rseq_push_batch:
    RSEQ_AREA
    mov w1, w1
.Lpushb_restart:
    RSEQ_ARM pushb
.Lpushb_start:
    SLAB_REGION .Lpushb_miss
    cmp w10, w4
    b.ne .Lpushb_miss                   /* no longer on the slab the slow path named */
    ldr w15, [x14]
    and w12, w15, #0xffff               /* current */
    lsr w15, w15, #16                   /* end */
    sub w15, w15, w12                   /* free capacity */
    cmp w15, w3
    csel w15, w3, w15, gt               /* k = min(free, n) */
    cmp w15, #0
    b.le .Lpushb_miss
    add x5, x11, x12, lsl #3            /* &slot[current] */
    mov x6, x2
    mov w7, w15
.Lpushb_copy:
    ldr x9, [x6], #8
    str x9, [x5], #8
    subs w7, w7, #1
    b.ne .Lpushb_copy
    add w12, w12, w15
    SELF_CHECK
    strh w12, [x14]                     /* commit */
.Lpushb_post_commit:
    mov w0, w15
    ret
.Lpushb_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER pushb, .Lpushb_restart
    RSEQ_DESCRIPTOR pushb, .Lpushb_start, .Lpushb_post_commit, pushb_abort
    .size cpuslab_rseq_push_batch, . - cpuslab_rseq_push_batch

/* int cpuslab_rseq_pop_batch(const desc *d [x0], int sc [w1], long *items [x2], int max [w3],
 *                            int expected [w4]). Stores into items before the commit are scratch.
 * Commit: strh of current - k. */
    .globl cpuslab_rseq_pop_batch
    .type cpuslab_rseq_pop_batch, %function
    .p2align 4
cpuslab_rseq_pop_batch:
    RSEQ_AREA
    mov w1, w1
.Lpopb_restart:
    RSEQ_ARM popb
.Lpopb_start:
    SLAB_REGION .Lpopb_miss
    cmp w10, w4
    b.ne .Lpopb_miss
    ldrh w12, [x14]                     /* current */
    add x9, x0, #DESC_BEGIN
    ldrh w15, [x9, x1, lsl #1]          /* begin */
    sub w15, w12, w15                   /* objects cached */
    cmp w15, w3
    csel w15, w3, w15, gt               /* k = min(objects, max) */
    cmp w15, #0
    b.le .Lpopb_miss
    add x5, x11, x12, lsl #3            /* one past the top slot */
    mov x6, x2
    mov w7, w15
.Lpopb_copy:
    ldr x9, [x5, #-8]!
    str x9, [x6], #8
    subs w7, w7, #1
    b.ne .Lpopb_copy
    sub w12, w12, w15
    SELF_CHECK
    strh w12, [x14]                     /* commit */
.Lpopb_post_commit:
    mov w0, w15
    ret
.Lpopb_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER popb, .Lpopb_restart
    RSEQ_DESCRIPTOR popb, .Lpopb_start, .Lpopb_post_commit, popb_abort
    .size cpuslab_rseq_pop_batch, . - cpuslab_rseq_pop_batch

/* int cpuslab_rseq_grow(const desc *d [x0], int sc [w1], int by [w2], int expected [w3]).
 * Commit: 32-bit store of the whole header. */
    .globl cpuslab_rseq_grow
    .type cpuslab_rseq_grow, %function
    .p2align 4
cpuslab_rseq_grow:
    RSEQ_AREA
    mov w1, w1
.Lgrow_restart:
    RSEQ_ARM grow
.Lgrow_start:
    SLAB_REGION .Lgrow_miss
    cmp w10, w3
    b.ne .Lgrow_miss
    ldr w15, [x14]
    and w12, w15, #0xffff               /* current */
    lsr w15, w15, #16                   /* end */
    add x9, x0, #DESC_BEGIN
    ldrh w5, [x9, x1, lsl #1]           /* begin */
    cbnz w15, .Lgrow_populated
    mov w15, w5                         /* not populated: current = end = begin */
    mov w12, w5
.Lgrow_populated:
    add x9, x0, #DESC_MAX_CAPACITY
    ldrh w6, [x9, x1, lsl #1]
    add w6, w6, w5                      /* limit = begin + max capacity */
    sub w6, w6, w15                     /* room = limit - end */
    cmp w6, w2
    csel w6, w2, w6, gt                 /* grown = min(room, by) */
    add w15, w15, w6                    /* new end */
    orr w7, w12, w15, lsl #16
    SELF_CHECK
    str w7, [x14]                       /* commit */
.Lgrow_post_commit:
    mov w0, w6
    ret
.Lgrow_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER grow, .Lgrow_restart
    RSEQ_DESCRIPTOR grow, .Lgrow_start, .Lgrow_post_commit, grow_abort
    .size cpuslab_rseq_grow, . - cpuslab_rseq_grow

/* int cpuslab_rseq_probe_spin(const volatile long *counter [x0], long iterations [x1]): see rseq_x86_64.S. */
    .globl cpuslab_rseq_probe_spin
    .type cpuslab_rseq_probe_spin, %function
    .p2align 4
cpuslab_rseq_probe_spin:
    RSEQ_AREA
    RSEQ_ARM probe
    ldr x2, [x0]                        /* snapshot for an abort before the first load in the section */
.Lprobe_start:
    ldr x2, [x0]
    mov x3, x1
.Lprobe_loop:
    ldr x4, [x0]
    cmp x4, x2
    b.ne .Lprobe_observed
    subs x3, x3, #1
    b.ne .Lprobe_loop
.Lprobe_post_commit:
    mov w0, #PROBE_INCONCLUSIVE
    ret
.Lprobe_observed:
    mov w0, #PROBE_OBSERVED
    ret
    .inst RSEQ_SIG
probe_abort:
    ldr x4, [x0]
    cmp x4, x2                          /* aborted, and the bumper ran: a preemption abort */
    b.eq .Lprobe_post_commit            /* aborted for another reason: no proof, try again */
    mov w0, #PROBE_ABORTED
    ret
    RSEQ_DESCRIPTOR probe, .Lprobe_start, .Lprobe_post_commit, probe_abort
    .size cpuslab_rseq_probe_spin, . - cpuslab_rseq_probe_spin

/* ---- overlay mode: the contract is above cpuslab_rseq_overlay_pop in rseq_x86_64.S ---------------------
 * The cached word is loaded with ldur from area - 4 (not 8-aligned: normal memory allows it, and it
 * never crosses a cache line in our 64-byte block). The tag is masked off rather than relying on
 * Top-Byte-Ignore, so the region is an ordinary address. */

/* Self-check build: after the delay, x11 must still be base + current index << SLAB_SHIFT, else brk.
 * Clobbers w9, x5, x6. */
.macro OVERLAY_SELF_CHECK
#ifdef CPUSLAB_SELF_CHECK
    adrp x9, cpuslab_rseq_inject_loops
    ldr w9, [x9, :lo12:cpuslab_rseq_inject_loops]
2:
    cbz w9, 3f
    sub w9, w9, #1
    b 2b
3:
    ldr w6, [x0, #DESC_INDEX_FIELD]
    ldr w6, [x8, x6]
    ldr x5, [x0, #DESC_BASE]
    add x5, x5, x6, lsl #SLAB_SHIFT
    cmp x5, x11
    b.eq 1f
    brk #0x1
1:
#endif
.endm

/* Inside an overlay section: x11 = cached region, x14 = &header[x1], or branch to \miss if the tag is gone
 * or the region is not one of this allocator's slabs (see rseq_x86_64.S). Clobbers x9, x12. */
.macro CACHED_REGION miss
    ldur x11, [x8, #OVERLAY_WORD_OFFSET]
    tbz x11, #OVERLAY_TAG_BIT, \miss
    and x11, x11, #~(1 << OVERLAY_TAG_BIT)
    ldr x9, [x0, #DESC_BASE]
    sub x9, x11, x9
    ldr x12, [x0, #DESC_SLAB_BYTES]
    cmp x9, x12                         /* unsigned: below base wraps around and misses too */
    b.hs \miss
    add x14, x11, #SLAB_HEADER_OFFSET
    add x14, x14, x1, lsl #2
.endm

/* long cpuslab_rseq_overlay_pop(const desc *d [x0], int sc [w1]). Commit: strh of current - 1. */
    POP_SECTION cpuslab_rseq_overlay_pop, opop, CACHED_REGION, OVERLAY_SELF_CHECK

/* int cpuslab_rseq_overlay_push(const desc *d [x0], int sc [w1], long item [x2]). Commit: strh of current + 1. */
    PUSH_SECTION cpuslab_rseq_overlay_push, opush, CACHED_REGION, OVERLAY_SELF_CHECK

/* int cpuslab_rseq_overlay_cache(const desc *d [x0]): TCMalloc's CacheCpuSlab ordering, see
 * rseq_x86_64.S. Returns the slab index cached, or -1 with the word untagged. */
    .globl cpuslab_rseq_overlay_cache
    .type cpuslab_rseq_overlay_cache, %function
    .p2align 4
cpuslab_rseq_overlay_cache:
    RSEQ_AREA
    mov x1, #0                          /* SLAB_REGION computes a header address: class 0 is harmless */
    mov x7, #(1 << OVERLAY_TAG_BIT)
.Lcache_retag:
    stur x7, [x8, #OVERLAY_WORD_OFFSET] /* 1. the bare tag */
.Lcache_restart:
    RSEQ_ARM cache
.Lcache_start:
    ldur x9, [x8, #OVERLAY_WORD_OFFSET]
    tbz x9, #OVERLAY_TAG_BIT, .Lcache_retag /* 2. cleared since 1: start over */
    SLAB_REGION .Lcache_miss            /* w10 index, x11 region */
    orr x15, x11, x7
    SELF_CHECK
    stur x15, [x8, #OVERLAY_WORD_OFFSET] /* 3. commit */
.Lcache_post_commit:
    mov w0, w10
    ret
.Lcache_miss:
    stur xzr, [x8, #OVERLAY_WORD_OFFSET] /* untagged: overlay pop/push miss */
    mov w0, #-1
    ret
    RSEQ_ABORT_HANDLER cache, .Lcache_restart
    RSEQ_DESCRIPTOR cache, .Lcache_start, .Lcache_post_commit, cache_abort
    .size cpuslab_rseq_overlay_cache, . - cpuslab_rseq_overlay_cache

#ifdef CPUSLAB_SELF_CHECK
/* int cpuslab_rseq_test_restore_slab_word(const desc *d [x0], long word [x1]): the 6.19 simulation
 * hook, see rseq_x86_64.S. Commit: the 8-byte store of the word. */
    .globl cpuslab_rseq_test_restore_slab_word
    .type cpuslab_rseq_test_restore_slab_word, %function
    .p2align 4
cpuslab_rseq_test_restore_slab_word:
    RSEQ_AREA
    and x2, x1, #~(1 << OVERLAY_TAG_BIT) /* the bare region */
.Lrestore_restart:
    RSEQ_ARM restore
.Lrestore_start:
    ldr w13, [x0, #DESC_INDEX_FIELD]
    ldr w10, [x8, x13]                  /* this CPU (or mm_cid) */
    ldr x11, [x0, #DESC_BASE]
    add x11, x11, x10, lsl #SLAB_SHIFT
    cmp x11, x2
    b.ne .Lrestore_miss
    stur x1, [x8, #OVERLAY_WORD_OFFSET] /* commit */
.Lrestore_post_commit:
    mov w0, #1
    ret
.Lrestore_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER restore, .Lrestore_restart
    RSEQ_DESCRIPTOR restore, .Lrestore_start, .Lrestore_post_commit, restore_abort
    .size cpuslab_rseq_test_restore_slab_word, . - cpuslab_rseq_test_restore_slab_word
#endif
