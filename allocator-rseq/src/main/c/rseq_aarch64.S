/*
 * cpuslab rseq critical sections, aarch64, compliant and overlay mode: the same sections, contracts and
 * pattern as rseq_x86_64.S (read that file's header and its overlay contract first):
 *   arm (rseq->rseq_cs = &descriptor), start, checks, work, ONE commit store; abort restarts. The
 * overlay sections and the fast path are instantiated from cpuslab_sections.inc, shared with x86-64.
 * The one-call fast path is the same too: cpuslab_rseq_malloc_* and cpuslab_rseq_free_* (one per
 * slab-index flavour: cpu_id, mm_cid, overlay) and the bulk forms look up the class, in the class
 * table or the page map, and pop or push in one call.
 *
 * aarch64 specifics:
 *   - The rseq area is tpidr_el0 + cpuslab_rseq_offset, computed into x8 before arming; it cannot
 *     change during the call (a native call never moves to another OS thread).
 *   - The stop word is loaded with ldar (acquire): after core's release store that clears it, the
 *     header and slot loads that follow must not be satisfied from before it. x86 gives that for free.
 *   - Loads are not ordered among themselves either: see PAGE_MAP_CLASS for the page map's hint.
 *   - A push loads the header's 16-bit `current` and `end` with two ldrh: a 32-bit load right after
 *     the previous operation's 16-bit commit is not contained in that store, so it could not be
 *     forwarded from the store buffer; and two ldrh are also one instruction fewer than ldr + split.
 *   - The signature before each abort handler is the instruction BRK #0x45e0, so falling into it traps.
 *   - x16/x17 are never used: a linker veneer may clobber them.
 * Registers: x0-x7 arguments and scratch, x8 rseq area, x9 scratch, w10 slab index, x11 slab region,
 * x12-x15 scratch; x14 = region + 4 * class once a section addresses a header (the header is at
 * x14 + SLAB_HEADER_OFFSET); the generic compliant sections hold the index field offset in x13.
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

/* Inside a section: w10 = slab index, x11 = region, or branch to \miss. Needs x0 = descriptor,
 * x8 = area; clobbers w9, w12, and the generic form x13. cpu_id tells whether the thread is registered
 * (-1 or -2 until then); in cpu_id mode it is also the index, so the field is read once. In mm_cid
 * mode mm_cid is read second: it means nothing while cpu_id says unregistered (glibc's area keeps it 0
 * then). \index: `generic` reads which field from the descriptor; the fast path's flavours name it
 * (`cpu_id`, `mm_cid`), as in rseq_x86_64.S. */
.macro SLAB_REGION miss, index=generic
    .ifc \index,generic
    ldr w13, [x0, #DESC_INDEX_FIELD]
    .endif
    ldr w10, [x8, #RSEQ_CPU_ID_OFFSET]
    ldr w12, [x0, #DESC_NSLABS]
    cmp w10, w12                        /* unsigned: -1/-2 and closed (nslabs 0) miss too */
    b.hs \miss
    .ifc \index,generic
    cmp w13, #RSEQ_CPU_ID_OFFSET
    b.eq 1f
    ldr w10, [x8, x13]                  /* mm_cid */
    cmp w10, w12
    b.hs \miss
1:
    .endif
    .ifc \index,mm_cid
    ldr w10, [x8, #RSEQ_MM_CID_OFFSET]
    cmp w10, w12
    b.hs \miss
    .endif
    ldr x11, [x0, #DESC_BASE]
    add x11, x11, x10, lsl #SLAB_SHIFT
    ldar w9, [x11]                      /* stop word (offset 0), acquire */
    cbnz w9, \miss
.endm

/* Self-check build: spin cpuslab_rseq_inject_loops times, then the field the descriptor names must
 * still read w10 (also when a compliant flavour was called for the other index field and the two
 * differ). Clobbers w9, x13. */
.macro SELF_CHECK
#ifdef CPUSLAB_SELF_CHECK
    ldr w13, [x0, #DESC_INDEX_FIELD]
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

/* Self-check build, for sections that do not hold the index (overlay's, the bulk free): after the
 * delay, x11 must still be base + current index << SLAB_SHIFT, else brk. Clobbers w9, x13. */
.macro REGION_SELF_CHECK
#ifdef CPUSLAB_SELF_CHECK
    adrp x9, cpuslab_rseq_inject_loops
    ldr w9, [x9, :lo12:cpuslab_rseq_inject_loops]
2:
    cbz w9, 3f
    sub w9, w9, #1
    b 2b
3:
    ldr w13, [x0, #DESC_INDEX_FIELD]
    ldr w13, [x8, x13]
    ldr x9, [x0, #DESC_BASE]
    add x9, x9, x13, lsl #SLAB_SHIFT
    cmp x9, x11
    b.eq 1f
    brk #0x1
1:
#endif
.endm

/* x1 = a request size -> x1 = its size class from the class table, or branch to \miss for sizes above
 * MAX_SMALL_SIZE (negative ones too: compared unsigned). Clobbers x9, x12. Outside sections. A table
 * not yet installed gives class 0, whose header reads empty and full: every pop misses. */
.macro CLASS_OF_SIZE miss
    adrp x12, cpuslab_classes + CLASSES_INDEX
    add x12, x12, :lo12:cpuslab_classes + CLASSES_INDEX
    add x9, x1, #7
    lsr x9, x9, #3                      /* lookup index of sizes up to SMALL_LOOKUP_LIMIT */
    cmp x1, #SMALL_LOOKUP_LIMIT
    b.ls 1f
    cmp x1, #MAX_SMALL_SIZE
    b.hi \miss
    mov x9, #LARGE_INDEX_OFFSET
    add x9, x1, x9
    lsr x9, x9, #7                      /* and of larger ones */
1:
    ldrb w1, [x12, x9]
.endm

/* Inside a section: w\cls = the size class of the block at x\addr from the allocator's page map, or
 * branch to \miss when the map is gone (the allocator closed: its root reads 0), no small span holds
 * the page, or x\addr does not start a block (an interior address, or one in the span's unused tail).
 * Registers are passed by number (x\t1 and w\t1 name one register). Needs x0 = descriptor; clobbers
 * \t1, \t2, \t3. The hint's key and leaf are loaded with one ldp that does not wait for the address.
 *
 * Ordering: Java stores the hinted leaf's address (release) before its key (release), each once from
 * its initial value (0, all ones). x86 orders loads, so there a matching key implies a non-zero leaf;
 * here the two loads of ldp are unordered and may see the new key with the old leaf 0. So the hint is
 * taken only when its leaf is non-zero (and a non-zero leaf is the key's, as each is written once);
 * otherwise the root's way, whose entry was published before the hint (it may still read 0 here: a
 * miss, which the slow path serves). The cbnz replaces the branch x86 takes on a hit, so this costs
 * nothing, where an ldar of the key would make every later load of the section wait for it. The
 * entries need no acquire: a block reaches its freeing thread only through happens-before edges that
 * start after its span's entries were written (NativePageMap). */
.macro PAGE_MAP_CLASS addr, cls, t1, t2, t3, miss
    ldr x\t3, [x0, #DESC_PAGE_MAP]      /* root */
    cbz x\t3, \miss
    lsr x\t1, x\addr, #(PAGE_SHIFT + PAGE_MAP_LEAF_BITS) /* leaf number */
    ldp x\t2, x\cls, [x\t3, #PAGE_MAP_HINT_KEY]          /* hint key, hint leaf */
    cmp x\t1, x\t2
    b.ne 1f
    cbnz x\cls, 2f                      /* the hinted leaf, once published */
1:
    cmp x\t1, #PAGE_MAP_ROOT_ENTRIES
    b.hs \miss                          /* beyond 48-bit addresses */
    add x\cls, x\t3, x\t1, lsl #3
    ldr x\cls, [x\cls, #PAGE_MAP_ROOT]
    cbz x\cls, \miss                    /* no leaf */
2:
    ubfx x\t1, x\addr, #PAGE_SHIFT, #PAGE_MAP_LEAF_BITS  /* the page in its leaf */
    ldrh w\t1, [x\cls, x\t1, lsl #1]    /* entry */
    ands w\cls, w\t1, #0xff             /* its low byte: the class */
    b.eq \miss                          /* no small span */
    lsr w\t1, w\t1, #PAGE_MAP_ENTRY_INDEX_SHIFT          /* its high byte: the page's index in the span */
    and x\t2, x\addr, #((1 << PAGE_SHIFT) - 1)
    add w\t1, w\t2, w\t1, lsl #PAGE_SHIFT                /* the address's offset in its span, < 2^21 */
    adrp x\t2, cpuslab_classes
    add x\t2, x\t2, :lo12:cpuslab_classes
    add x\t3, x\t2, x\cls, lsl #2
    ldr w\t3, [x\t3, #CLASSES_LIMIT]
    cmp w\t1, w\t3
    b.hs \miss                          /* the span's tail */
    add x\t2, x\t2, x\cls, lsl #3
    ldr x\t3, [x\t2, #CLASSES_MAGIC]
    ldr x\t2, [x\t2, #CLASSES_MAGIC_LIMIT]
    mul x\t1, x\t1, x\t3                /* offset * magic mod 2^64 */
    cmp x\t1, x\t2
    b.hi \miss                          /* offset not a multiple of the size: interior */
.endm

    .text

/* Pop and push, compliant and overlay: one body each. \region sets x11 (region) or branches to the
 * miss label (SLAB_REGION and its flavours, or overlay's CACHED_REGION); \check is the self-check
 * build's test right before the commit (SELF_CHECK, or REGION_SELF_CHECK).
 * The pop of class x1 (zero-extended): */
.macro POP_BODY name, region, check
    RSEQ_AREA
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    add x14, x11, x1, lsl #2
    ldrh w15, [x14, #SLAB_HEADER_OFFSET] /* current */
    add x9, x0, #DESC_BEGIN
    ldrh w12, [x9, x1, lsl #1]          /* begin */
    cmp w15, w12
    b.ls .L\name\()_miss                /* empty (or not populated: current 0) */
    sub w15, w15, #1
    ldr x2, [x11, x15, lsl #3]          /* the object */
    \check
    strh w15, [x14, #SLAB_HEADER_OFFSET] /* commit */
.L\name\()_post_commit:
    mov x0, x2
    ret
.L\name\()_miss:
    mov x0, #0
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
.endm

/* The slow path's pop of a class: (desc, int sc). */
.macro POP_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 5
\symbol:
    mov w1, w1
    POP_BODY \name, \region, \check
    .size \symbol, . - \symbol
.endm

/* The fast path's malloc: (desc, long size), the size's class from the class table, then the pop;
 * sizes above the small limit (and negative ones) take the pop's miss exit before any section. */
.macro MALLOC_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 5
\symbol:
    CLASS_OF_SIZE .L\name\()_miss
    POP_BODY \name, \region, \check
    .size \symbol, . - \symbol
.endm

/* The rest of a push once \region found the slab (x11): item \item goes into the slot above `current`
 * of class \cls (zero-extended), which nobody reads until the commit publishes it. Returns 1, or 0
 * when full. */
.macro PUSH_COMMIT name, check, cls, item
    add x14, x11, \cls, lsl #2
    ldrh w12, [x14, #SLAB_HEADER_OFFSET] /* current */
    ldrh w15, [x14, #SLAB_HEADER_OFFSET + 2] /* end */
    cmp w12, w15
    b.hs .L\name\()_miss                /* full (or not populated: end 0) */
    str \item, [x11, x12, lsl #3]
    add w12, w12, #1
    \check
    strh w12, [x14, #SLAB_HEADER_OFFSET] /* commit */
.L\name\()_post_commit:
    mov w0, #1
    ret
.L\name\()_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
.endm

.macro PUSH_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 5
\symbol:
    RSEQ_AREA
    mov w1, w1
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    PUSH_COMMIT \name, \check, x1, x2
    .size \symbol, . - \symbol
.endm

/* After \region, with the block's class from the page map in w4: w3 = the slab's hint (the class of the
 * last free here that differed from its hint) when it is that class, so the header address no longer
 * waits for the page map (the CPU runs ahead on the predicted branch, and the compare only confirms
 * it); otherwise the hint is rewritten and w3 = w4. It is a hint, not state: any value is safe, so an
 * aborted section may leave it written. */
.macro CLASS_HINT
    ldr w3, [x11, #SLAB_HINT_OFFSET]
    cmp w3, w4
    b.eq 1f
    str w4, [x11, #SLAB_HINT_OFFSET]
    mov w3, w4
1:
.endm

/* A push whose class comes from the page map, looked up inside the section: close clears the map's
 * root in the descriptor and fences every CPU before unmapping it, so a section either reads the map
 * while it is there or restarts and misses. The block stays in x1; the kernel-facing contract is the
 * push's. */
.macro FREE_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, %function
    .p2align 5
\symbol:
    RSEQ_AREA
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    PAGE_MAP_CLASS 1, 4, 5, 6, 7, .L\name\()_miss
    \region .L\name\()_miss
    CLASS_HINT
    PUSH_COMMIT \name, \check, x3, x1
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
    .p2align 5
cpuslab_rseq_push_batch:
    RSEQ_AREA
    mov w1, w1
.Lpushb_restart:
    RSEQ_ARM pushb
.Lpushb_start:
    SLAB_REGION .Lpushb_miss
    cmp w10, w4
    b.ne .Lpushb_miss                   /* no longer on the slab the slow path named */
    add x14, x11, x1, lsl #2
    ldrh w12, [x14, #SLAB_HEADER_OFFSET] /* current */
    ldrh w15, [x14, #SLAB_HEADER_OFFSET + 2] /* end */
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
    strh w12, [x14, #SLAB_HEADER_OFFSET] /* commit */
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
 *                            int expected [w4]): expected -1 accepts any slab. Stores into items before
 * the commit are scratch. Commit: strh of current - k. */
    .globl cpuslab_rseq_pop_batch
    .type cpuslab_rseq_pop_batch, %function
    .p2align 5
cpuslab_rseq_pop_batch:
.Lpopb_entry:                           /* malloc_bulk's way in: a local branch, not through the PLT */
    RSEQ_AREA
    mov w1, w1
.Lpopb_restart:
    RSEQ_ARM popb
.Lpopb_start:
    SLAB_REGION .Lpopb_miss
    cmp w10, w4
    b.eq 1f
    cmn w4, #1
    b.ne .Lpopb_miss                    /* no longer on the slab the slow path named */
1:
    add x14, x11, x1, lsl #2
    ldrh w12, [x14, #SLAB_HEADER_OFFSET] /* current */
    add x9, x0, #DESC_BEGIN
    ldrh w15, [x9, x1, lsl #1]          /* begin */
    sub w15, w12, w15                   /* objects cached */
    cmp w15, w3
    csel w15, w3, w15, gt               /* k = min(objects, max) */
    cmp w15, #0
    b.le .Lpopb_miss                    /* also not populated: current 0 < begin */
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
    strh w12, [x14, #SLAB_HEADER_OFFSET] /* commit */
.Lpopb_post_commit:
    mov w0, w15
    ret
.Lpopb_miss:
    mov w0, #0
    ret
    RSEQ_ABORT_HANDLER popb, .Lpopb_restart
    RSEQ_DESCRIPTOR popb, .Lpopb_start, .Lpopb_post_commit, popb_abort
    .size cpuslab_rseq_pop_batch, . - cpuslab_rseq_pop_batch

/*
 * int cpuslab_rseq_free_bulk(const desc *d [x0], const long *blocks [x1], int n [w2])
 * Frees blocks[0..n) in order, as far as it can: each section pushes a run of consecutive blocks of one
 * size class (each found and checked in the page map, as cpuslab_rseq_free_* does) onto the caller's
 * slab and commits the whole run with one store. Returns how many blocks from the start were freed;
 * the next one (any miss of cpuslab_rseq_free_*, or its class full) is left to the Java slow path.
 * Every section starts from the first block not yet committed, so a restart redoes only its own run.
 * Commit: strh of current + run length.
 * Registers: w3 freed so far, w4 the run's next block, x5 a block, w6 the run's class, w7 the next
 * block's class, w12 current, w15 end; the page map lookups use x9, x10, x13 (the index is not kept).
 */
    .globl cpuslab_rseq_free_bulk
    .type cpuslab_rseq_free_bulk, %function
    .p2align 5
cpuslab_rseq_free_bulk:
    RSEQ_AREA
    mov w3, #0
.Lfreeb_next:
    cmp w3, w2
    b.ge .Lfreeb_done
.Lfreeb_restart:
    RSEQ_ARM freeb
.Lfreeb_start:
    ldr x5, [x1, w3, uxtw #3]           /* the run's first block */
    PAGE_MAP_CLASS 5, 6, 9, 10, 13, .Lfreeb_done
    SLAB_REGION .Lfreeb_done
    add x14, x11, x6, lsl #2
    ldrh w12, [x14, #SLAB_HEADER_OFFSET] /* current */
    ldrh w15, [x14, #SLAB_HEADER_OFFSET + 2] /* end */
    mov w4, w3
.Lfreeb_push:
    cmp w12, w15
    b.hs .Lfreeb_commit                 /* full */
    str x5, [x11, x12, lsl #3]
    add w12, w12, #1
    add w4, w4, #1
    cmp w4, w2
    b.ge .Lfreeb_commit
    ldr x5, [x1, w4, uxtw #3]
    PAGE_MAP_CLASS 5, 7, 9, 10, 13, .Lfreeb_commit
    cmp w7, w6
    b.eq .Lfreeb_push                   /* same class: the run goes on */
.Lfreeb_commit:
    cmp w4, w3
    b.eq .Lfreeb_done                   /* the run's first block did not fit */
    REGION_SELF_CHECK
    strh w12, [x14, #SLAB_HEADER_OFFSET] /* commit */
.Lfreeb_post_commit:
    mov w3, w4
    b .Lfreeb_next
.Lfreeb_done:
    mov w0, w3
    ret
    RSEQ_ABORT_HANDLER freeb, .Lfreeb_restart
    RSEQ_DESCRIPTOR freeb, .Lfreeb_start, .Lfreeb_post_commit, freeb_abort
    .size cpuslab_rseq_free_bulk, . - cpuslab_rseq_free_bulk

/*
 * int cpuslab_rseq_malloc_bulk(const desc *d [x0], long size [x1], long *out [x2], int n [w3])
 * Pops up to n blocks of the size's class from the caller's slab into out[0..k) and returns k: the
 * pop-batch section for whatever slab the caller is on. 0 on any miss and for sizes above the small limit.
 */
    .globl cpuslab_rseq_malloc_bulk
    .type cpuslab_rseq_malloc_bulk, %function
    .p2align 5
cpuslab_rseq_malloc_bulk:
    CLASS_OF_SIZE .Lmallocb_large
    mov w4, #-1                         /* any slab */
    b .Lpopb_entry
.Lmallocb_large:
    mov w0, #0
    ret
    .size cpuslab_rseq_malloc_bulk, . - cpuslab_rseq_malloc_bulk

/* int cpuslab_rseq_grow(const desc *d [x0], int sc [w1], int by [w2], int expected [w3]).
 * Commit: 32-bit store of the whole header. */
    .globl cpuslab_rseq_grow
    .type cpuslab_rseq_grow, %function
    .p2align 5
cpuslab_rseq_grow:
    RSEQ_AREA
    mov w1, w1
.Lgrow_restart:
    RSEQ_ARM grow
.Lgrow_start:
    SLAB_REGION .Lgrow_miss
    cmp w10, w3
    b.ne .Lgrow_miss
    add x14, x11, x1, lsl #2
    ldr w15, [x14, #SLAB_HEADER_OFFSET]
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
    str w7, [x14, #SLAB_HEADER_OFFSET]  /* commit */
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
    .p2align 5
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

/* Inside an overlay section: x11 = cached region, or branch to \miss if the tag is gone or the region
 * is not one of this allocator's slabs (see rseq_x86_64.S). Clobbers x9, x12. */
.macro CACHED_REGION miss
    ldur x11, [x8, #OVERLAY_WORD_OFFSET]
    tbz x11, #OVERLAY_TAG_BIT, \miss
    and x11, x11, #~(1 << OVERLAY_TAG_BIT)
    ldr x9, [x0, #DESC_BASE]
    sub x9, x11, x9
    ldr x12, [x0, #DESC_SLAB_BYTES]
    cmp x9, x12                         /* unsigned: below base wraps around and misses too */
    b.hs \miss
.endm

#include "cpuslab_sections.inc"

/* int cpuslab_rseq_overlay_cache(const desc *d [x0]): TCMalloc's CacheCpuSlab ordering, see
 * rseq_x86_64.S. Returns the slab index cached, or -1 with the word untagged. */
    .globl cpuslab_rseq_overlay_cache
    .type cpuslab_rseq_overlay_cache, %function
    .p2align 5
cpuslab_rseq_overlay_cache:
    RSEQ_AREA
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
    .p2align 5
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
