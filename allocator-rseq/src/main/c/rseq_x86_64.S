/*
 * cpuslab rseq critical sections, x86-64: compliant mode, and overlay mode's pop, push and re-cache
 * (at the end of the file, with their own contract).
 *
 * Every section follows one pattern (librseq's, adapted to the slab layout of SlabLayout.java):
 *   1. arm:    store the address of the section's descriptor into rseq->rseq_cs
 *   2. start:  load cpu_id (registered and below nslabs?), in mm_cid mode then mm_cid, the region,
 *              and the region's stop word; any failure leaves through a miss label without storing
 *              anything (the free sections' class hint aside: a hint, which any value may be)
 *   3. work:   loads, and stores into slots above `current` that nobody reads until the commit
 *   4. commit: ONE store of the class header (16-bit `current`, or the 32-bit header for grow)
 * The 16-bit `current` and `end` of a header are loaded separately: a 32-bit load of the header right
 * after the last operation's 16-bit commit could not take its value from the store buffer and would
 * wait for the store to reach the cache (about ten cycles, on every push after a pop).
 * If the thread is preempted, migrated or signalled between start and the end of the commit store,
 * the kernel moves it to the abort handler, which restarts the section from step 1: nothing of an
 * aborted attempt is visible. No calls, no syscalls, no stack use inside a section.
 *
 * The rseq area is at %fs:cpuslab_rseq_offset (glibc's __rseq_offset, or our own TLS area): computed
 * from the thread pointer on every call, so a virtual thread that moved carriers uses the right one.
 *
 * CPUSLAB_SELF_CHECK builds (the torture tests' library) re-read the slab index right before the
 * commit and execute ud2 (the process dies) if it changed: a commit on the wrong slab would mean the
 * kernel failed to abort.
 *
 * Overlay mode (TCMalloc's cached-slabs trick) replaces step 2 of pop and push by one load of a cached
 * slab word whose upper half overlaps cpu_id_start; see the contract above cpuslab_rseq_overlay_pop.
 *
 * The fast path is one call per operation, as TCMalloc's is one inlined function: cpuslab_rseq_malloc_*
 * maps the size to its class and pops, cpuslab_rseq_free_* finds the block's class in the allocator's
 * page map, checks that the address starts a block, and pushes, one entry per slab-index flavour
 * (cpu_id, mm_cid, overlay) so that no call decides the flavour again; the bulk calls do the same for
 * many blocks per call, in compliant mode whatever the flavour.
 */
#include "cpuslab_rseq.h"

    .section .note.GNU-stack, "", @progbits


/* Abort handler: the signature in the 4 bytes before it, encoded as `ud1 SIG(%rip), %edi` so that
 * falling into it by mistake traps instead of running on (librseq's encoding). */
.macro RSEQ_ABORT_HANDLER name, restart
    .byte 0x0f, 0xb9, 0x3d
    .long RSEQ_SIG
\name\()_abort:
    jmp \restart
.endm

/* Arm the section: rseq->rseq_cs = &descriptor. %r8 holds the rseq area's offset from %fs. */
.macro RSEQ_ARM name
    leaq \name\()_rseq_cs(%rip), %rax
    movq %rax, %fs:RSEQ_CS_OFFSET(%r8)
.endm

/* Inside a section: %ecx = slab index, %r10 = slab region, or jump to \miss. Needs %rdi = descriptor,
 * %r8 = rseq offset; the generic form clobbers %r11. cpu_id tells whether the thread is registered (it
 * is -1, or -2, until then); in cpu_id mode it is also the index, so the field is read once. In mm_cid
 * mode mm_cid is read second: it means nothing while cpu_id says unregistered (glibc's area keeps it 0
 * then). \index: `generic` reads which field from the descriptor (the slow path's sections); the fast
 * path's flavours name it, `cpu_id` or `mm_cid`, and save that load and branch on every call (Java
 * calls the flavour that matches the descriptor; SELF_CHECK compares with the field the descriptor
 * names). */
.macro SLAB_REGION miss, index=generic
    .ifc \index,generic
    movl DESC_INDEX_FIELD(%rdi), %r11d
    .endif
    movl %fs:RSEQ_CPU_ID_OFFSET(%r8), %ecx
    cmpl DESC_NSLABS(%rdi), %ecx            /* unsigned: unregistered and closed (nslabs 0) miss too */
    jae \miss
    .ifc \index,generic
    cmpl $RSEQ_CPU_ID_OFFSET, %r11d
    je 1f
    movl %fs:(%r8,%r11), %ecx               /* mm_cid */
    cmpl DESC_NSLABS(%rdi), %ecx
    jae \miss
1:
    .endif
    .ifc \index,mm_cid
    movl %fs:RSEQ_MM_CID_OFFSET(%r8), %ecx
    cmpl DESC_NSLABS(%rdi), %ecx
    jae \miss
    .endif
    movl %ecx, %r10d
    shlq $SLAB_SHIFT, %r10
    addq DESC_BASE(%rdi), %r10
    cmpl $0, SLAB_STOP_OFFSET(%r10)         /* core is draining or resizing this slab */
    jne \miss
.endm

/* Self-check build, right before a commit: first spin cpuslab_rseq_inject_loops times (0 unless a test
 * sets it) to widen the window in which preemption, migration, signals and fences must abort the
 * section (librseq's delay injection); then the index field the descriptor names must still read %ecx,
 * else ud2 kills the process (also when a compliant fast-path flavour was called for the other index
 * field and the two fields differ at that moment).
 * Clobbers %r11; \scratch32 is a register the section no longer needs (\scratch, its 64-bit name, is
 * unused here: the signature is REGION_SELF_CHECK's). */
.macro SELF_CHECK scratch, scratch32
#ifdef CPUSLAB_SELF_CHECK
    movl DESC_INDEX_FIELD(%rdi), %r11d
    movl cpuslab_rseq_inject_loops(%rip), \scratch32
2:
    testl \scratch32, \scratch32
    jz 3f
    decl \scratch32
    jmp 2b
3:
    cmpl %fs:(%r8,%r11), %ecx
    je 1f
    ud2
1:
#endif
.endm

/* Self-check build, for sections that no longer hold the index (overlay's, the bulk free): after the
 * delay, the region in %r10 must still be the region of the index the kernel reports now (base +
 * index << SLAB_SHIFT), else ud2. Needs %rdi, %r8; \scratch/\scratch32 is a free register, %r11 is
 * clobbered. */
.macro REGION_SELF_CHECK scratch, scratch32
#ifdef CPUSLAB_SELF_CHECK
    movl cpuslab_rseq_inject_loops(%rip), \scratch32
2:
    testl \scratch32, \scratch32
    jz 3f
    decl \scratch32
    jmp 2b
3:
    movl DESC_INDEX_FIELD(%rdi), %r11d
    movl %fs:(%r8,%r11), \scratch32
    shlq $SLAB_SHIFT, \scratch
    addq DESC_BASE(%rdi), \scratch
    cmpq \scratch, %r10
    je 1f
    ud2
1:
#endif
.endm

/* %rsi = a request size -> %esi = its size class from the class table, or jump to \miss for sizes
 * above MAX_SMALL_SIZE (negative ones too: compared unsigned). Clobbers %rax, %rcx. Outside sections.
 * A table not yet installed gives class 0, whose header reads empty and full: every pop misses. */
.macro CLASS_OF_SIZE miss
    cmpq $SMALL_LOOKUP_LIMIT, %rsi
    ja 1f
    leaq 7(%rsi), %rax
    shrq $3, %rax                                   /* lookup index of sizes up to SMALL_LOOKUP_LIMIT */
    jmp 2f
1:
    cmpq $MAX_SMALL_SIZE, %rsi
    ja \miss
    leaq LARGE_INDEX_OFFSET(%rsi), %rax
    shrq $7, %rax                                   /* and of larger ones */
2:
    leaq cpuslab_classes(%rip), %rcx
    movzbl CLASSES_INDEX(%rcx,%rax), %esi
.endm

/* Inside a section: \cls = the size class of the block at \addr from the allocator's page map, or jump
 * to \miss when the map is gone (the allocator closed: its root reads 0), no small span holds the page,
 * or \addr does not start a block (an interior address, or one in the span's unused tail). Needs
 * %rdi = descriptor; clobbers \t1, \t2, \t3 (\t1_32, \t2_32 and \cls32 are 32-bit names).
 * The hinted leaf (the first one, which usually covers the whole heap) is loaded without waiting for
 * \addr, and the entry load then needs only \addr's page: one load after \addr instead of two. */
.macro PAGE_MAP_CLASS addr, cls, cls32, t1, t1_32, t2, t2_32, t3, miss
    movq DESC_PAGE_MAP(%rdi), \t3                  /* root */
    testq \t3, \t3
    jz \miss
    movq \addr, \t1
    shrq $PAGE_SHIFT, \t1                          /* page number */
    movq \t1, \t2
    shrq $PAGE_MAP_LEAF_BITS, \t2                  /* leaf number */
    cmpq PAGE_MAP_HINT_KEY(\t3), \t2
    jne 1f
    movq PAGE_MAP_HINT_LEAF(\t3), \t3             /* set before the key: never 0 once the key matches */
    jmp 2f
1:
    cmpq $PAGE_MAP_ROOT_ENTRIES, \t2
    jae \miss                                       /* beyond 48-bit addresses */
    movq PAGE_MAP_ROOT(\t3,\t2,8), \t3
    testq \t3, \t3                                 /* no leaf */
    jz \miss
2:
    andl $((1 << PAGE_MAP_LEAF_BITS) - 1), \t1_32
    movzbl (\t3,\t1,2), \cls32                     /* the entry's low byte: the class */
    testl \cls32, \cls32
    jz \miss                                        /* no small span */
    movzbl 1(\t3,\t1,2), \t1_32                    /* its high byte: the page's index in the span */
    shll $PAGE_SHIFT, \t1_32
    movq \addr, \t2
    andl $((1 << PAGE_SHIFT) - 1), \t2_32
    addl \t2_32, \t1_32                             /* the address's offset in its span, < 2^21 */
    leaq cpuslab_classes(%rip), \t2
    cmpl CLASSES_LIMIT(\t2,\cls,4), \t1_32
    jae \miss                                       /* the span's tail */
    imulq CLASSES_MAGIC(\t2,\cls,8), \t1           /* offset * magic mod 2^64 */
    cmpq CLASSES_MAGIC_LIMIT(\t2,\cls,8), \t1
    ja \miss                                        /* offset not a multiple of the size: interior */
.endm

    .text

/* Pop and push, compliant and overlay: one body each. \region finds the slab region in %r10 or jumps
 * to the miss label (SLAB_REGION and its flavours, or overlay's CACHED_REGION); \check is the
 * self-check build's test right before the commit (SELF_CHECK, or REGION_SELF_CHECK).
 * The pop of class %rsi (zero-extended): */
.macro POP_BODY name, region, check
    movq cpuslab_rseq_offset(%rip), %r8
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    movzwl SLAB_HEADER_OFFSET(%r10,%rsi,4), %edx    /* current */
    movzwl DESC_BEGIN(%rdi,%rsi,2), %eax            /* begin */
    cmpl %eax, %edx
    jbe .L\name\()_miss                             /* empty (or not populated: current 0) */
    movq -8(%r10,%rdx,8), %rax                      /* the object */
    decl %edx
    \check %r9, %r9d
    movw %dx, SLAB_HEADER_OFFSET(%r10,%rsi,4)       /* commit */
.L\name\()_post_commit:
    ret
.L\name\()_miss:
    xorl %eax, %eax
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
.endm

/* The slow path's pop of a class: (desc, int sc). */
.macro POP_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
    .p2align 5
\symbol:
    movslq %esi, %rsi
    POP_BODY \name, \region, \check
    .size \symbol, . - \symbol
.endm

/* The fast path's malloc: (desc, long size), the size's class from the class table, then the pop;
 * sizes above the small limit (and negative ones) take the pop's miss exit before any section. */
.macro MALLOC_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
    .p2align 5
\symbol:
    CLASS_OF_SIZE .L\name\()_miss
    POP_BODY \name, \region, \check
    .size \symbol, . - \symbol
.endm

/* The rest of a push once \region found the slab (%r10) for class %rsi: item %r9 goes into the slot
 * above `current`, which nobody reads until the commit publishes it. Returns 1, or 0 when full. */
.macro PUSH_COMMIT name, check
    movzwl SLAB_HEADER_OFFSET(%r10,%rsi,4), %edx    /* current */
    movzwl SLAB_HEADER_OFFSET+2(%r10,%rsi,4), %eax  /* end */
    cmpl %eax, %edx
    jae .L\name\()_miss                             /* full (or not populated: end 0) */
    movq %r9, (%r10,%rdx,8)
    incl %edx
    \check %rax, %eax
    movw %dx, SLAB_HEADER_OFFSET(%r10,%rsi,4)       /* commit */
.L\name\()_post_commit:
    movl $1, %eax
    ret
.L\name\()_miss:
    xorl %eax, %eax
    ret
    RSEQ_ABORT_HANDLER \name, .L\name\()_restart
    RSEQ_DESCRIPTOR \name, .L\name\()_start, .L\name\()_post_commit, \name\()_abort
.endm

.macro PUSH_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
    .p2align 5
\symbol:
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
    movq %rdx, %r9                                  /* item */
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    PUSH_COMMIT \name, \check
    .size \symbol, . - \symbol
.endm

/* After \region, with the block's class from the page map in %esi: when it is the slab's hint (the class
 * of the last free here that differed from its hint), the push goes on with the hint's copy of the
 * value. Same number, but the header address then no longer waits for the page map: a run of frees of
 * one class on a CPU, the common case, does not wait for the map load behind each block's address
 * (the CPU runs ahead on the predicted branch, and the compare only confirms it). Otherwise the hint
 * is rewritten. It is a hint, not state: any value is safe, so an aborted section may leave it written. */
.macro CLASS_HINT
    movl SLAB_HINT_OFFSET(%r10), %eax
    cmpl %eax, %esi
    jne 1f
    movl %eax, %esi
    jmp 2f
1:
    movl %esi, SLAB_HINT_OFFSET(%r10)
2:
.endm

/* A push whose class comes from the page map, looked up inside the section: close clears the map's
 * root in the descriptor and fences every CPU before unmapping it, so a section either reads the map
 * while it is there or restarts and misses. The kernel-facing contract is the push's. */
.macro FREE_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
    .p2align 5
\symbol:
    movq cpuslab_rseq_offset(%rip), %r8
    movq %rsi, %r9                                  /* the block */
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    PAGE_MAP_CLASS %r9, %rsi, %esi, %rax, %eax, %rdx, %edx, %r11, .L\name\()_miss
    \region .L\name\()_miss
    CLASS_HINT
    PUSH_COMMIT \name, \check
    .size \symbol, . - \symbol
.endm

/*
 * long cpuslab_rseq_pop(const desc *d [rdi], int sc [esi])
 * Pops the most recently pushed object of class sc from the caller's slab and returns it; returns 0
 * if the thread has no rseq registration, the index is out of range, the slab is stopped or the class
 * is empty. Commit: 16-bit store of current - 1.
 */
    POP_SECTION cpuslab_rseq_pop, pop, SLAB_REGION, SELF_CHECK

/*
 * int cpuslab_rseq_push(const desc *d [rdi], int sc [esi], long item [rdx])
 * Pushes item onto class sc of the caller's slab; returns 1, or 0 on the same misses as pop or when
 * the class is at capacity. Commit: 16-bit store of current + 1.
 */
    PUSH_SECTION cpuslab_rseq_push, push, SLAB_REGION, SELF_CHECK

/* Batch and grow sections keep these across restarts, saved on the stack before arming:
 *   %r12 items   %r13d n   %r9d expected slab   %rbx count k   %rbp slot cursor   %r14 items cursor   %r15 temp */
.macro SAVE_BATCH_REGS
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm

.macro RESTORE_BATCH_REGS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
.endm

/*
 * int cpuslab_rseq_push_batch(const desc *d [rdi], int sc [esi], const long *items [rdx], int n [ecx],
 *                             int expected [r8d])
 * If the caller is on slab `expected`, pushes items[0..k) in order, k = min(n, free capacity), and
 * returns k; returns 0 on any miss. Commit: 16-bit store of current + k.
 */
    .globl cpuslab_rseq_push_batch
    .type cpuslab_rseq_push_batch, @function
    .p2align 5
cpuslab_rseq_push_batch:
    SAVE_BATCH_REGS
    movq %rdx, %r12
    movl %ecx, %r13d
    movl %r8d, %r9d
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
.Lpushb_restart:
    RSEQ_ARM pushb
.Lpushb_start:
    SLAB_REGION .Lpushb_miss
    cmpl %r9d, %ecx
    jne .Lpushb_miss                                /* no longer on the slab the slow path named */
    movzwl SLAB_HEADER_OFFSET(%r10,%rsi,4), %edx    /* current */
    movzwl SLAB_HEADER_OFFSET+2(%r10,%rsi,4), %eax  /* end */
    subl %edx, %eax                                 /* free capacity */
    cmpl %r13d, %eax
    cmovgl %r13d, %eax
    movl %eax, %ebx                                 /* k = min(n, free) */
    testl %ebx, %ebx
    jle .Lpushb_miss
    leaq (%r10,%rdx,8), %rbp                        /* &slot[current] */
    movq %r12, %r14
    movl %ebx, %eax
.Lpushb_copy:
    movq (%r14), %r15
    movq %r15, (%rbp)
    addq $8, %r14
    addq $8, %rbp
    decl %eax
    jnz .Lpushb_copy
    addl %ebx, %edx
    SELF_CHECK %rax, %eax
    movw %dx, SLAB_HEADER_OFFSET(%r10,%rsi,4)       /* commit */
.Lpushb_post_commit:
    movl %ebx, %eax
    RESTORE_BATCH_REGS
    ret
.Lpushb_miss:
    xorl %eax, %eax
    RESTORE_BATCH_REGS
    ret
    RSEQ_ABORT_HANDLER pushb, .Lpushb_restart
    RSEQ_DESCRIPTOR pushb, .Lpushb_start, .Lpushb_post_commit, pushb_abort
    .size cpuslab_rseq_push_batch, . - cpuslab_rseq_push_batch

/*
 * int cpuslab_rseq_pop_batch(const desc *d [rdi], int sc [esi], long *items [rdx], int max [ecx],
 *                            int expected [r8d])
 * If the caller is on slab `expected` (any slab for -1), pops k = min(max, objects) objects into
 * items[0..k), most recent first, and returns k; returns 0 on any miss. Stores into items before the
 * commit are scratch: an aborted attempt's values are overwritten by the restart and Java reads only k.
 * Commit: 16-bit store of current - k.
 */
    .globl cpuslab_rseq_pop_batch
    .type cpuslab_rseq_pop_batch, @function
    .p2align 5
cpuslab_rseq_pop_batch:
.Lpopb_entry:
    SAVE_BATCH_REGS
    movq %rdx, %r12
    movl %ecx, %r13d
    movl %r8d, %r9d
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
.Lpopb_restart:
    RSEQ_ARM popb
.Lpopb_start:
    SLAB_REGION .Lpopb_miss
    cmpl %r9d, %ecx
    je 1f
    cmpl $-1, %r9d
    jne .Lpopb_miss                                 /* no longer on the slab the slow path named */
1:
    movzwl SLAB_HEADER_OFFSET(%r10,%rsi,4), %edx    /* current */
    movzwl DESC_BEGIN(%rdi,%rsi,2), %eax            /* begin */
    movl %edx, %ebx
    subl %eax, %ebx                                 /* objects cached */
    cmpl %r13d, %ebx
    cmovgl %r13d, %ebx                              /* k = min(max, objects) */
    testl %ebx, %ebx
    jle .Lpopb_miss                                 /* also not populated: current 0 < begin */
    leaq (%r10,%rdx,8), %rbp                        /* one past the top slot */
    movq %r12, %r14
    movl %ebx, %eax
.Lpopb_copy:
    subq $8, %rbp
    movq (%rbp), %r15
    movq %r15, (%r14)
    addq $8, %r14
    decl %eax
    jnz .Lpopb_copy
    subl %ebx, %edx
    SELF_CHECK %rax, %eax
    movw %dx, SLAB_HEADER_OFFSET(%r10,%rsi,4)       /* commit */
.Lpopb_post_commit:
    movl %ebx, %eax
    RESTORE_BATCH_REGS
    ret
.Lpopb_miss:
    xorl %eax, %eax
    RESTORE_BATCH_REGS
    ret
    RSEQ_ABORT_HANDLER popb, .Lpopb_restart
    RSEQ_DESCRIPTOR popb, .Lpopb_start, .Lpopb_post_commit, popb_abort
    .size cpuslab_rseq_pop_batch, . - cpuslab_rseq_pop_batch

/*
 * int cpuslab_rseq_free_bulk(const desc *d [rdi], const long *blocks [rsi], int n [edx])
 * Frees blocks[0..n) in order, as far as it can: each section pushes a run of consecutive blocks of one
 * size class (each found and checked in the page map, as cpuslab_rseq_free_* does) onto the caller's
 * slab and commits the whole run with one store. Returns how many blocks from the start were freed;
 * the next one (any miss of cpuslab_rseq_free_*, or its class full) is left to the Java slow path.
 * Every section starts from the first block not yet committed, so a restart redoes only its own run.
 * Commit: 16-bit store of current + run length.
 */
    .globl cpuslab_rseq_free_bulk
    .type cpuslab_rseq_free_bulk, @function
    .p2align 5
cpuslab_rseq_free_bulk:
    SAVE_BATCH_REGS
    movq %rsi, %r12                                 /* blocks */
    movl %edx, %r13d                                /* n */
    xorl %ebx, %ebx                                 /* freed so far */
    movq cpuslab_rseq_offset(%rip), %r8
.Lfreeb_next:
    cmpl %r13d, %ebx
    jge .Lfreeb_done
.Lfreeb_restart:
    RSEQ_ARM freeb
.Lfreeb_start:
    movq (%r12,%rbx,8), %r9                         /* the run's first block */
    PAGE_MAP_CLASS %r9, %rsi, %esi, %rax, %eax, %rbp, %ebp, %r11, .Lfreeb_done
    SLAB_REGION .Lfreeb_done
    movzwl SLAB_HEADER_OFFSET(%r10,%rsi,4), %edx    /* current */
    movzwl SLAB_HEADER_OFFSET+2(%r10,%rsi,4), %r15d /* end */
    movl %ebx, %r14d                                /* the next block of the run */
.Lfreeb_push:
    cmpl %r15d, %edx
    jae .Lfreeb_commit                              /* full */
    movq %r9, (%r10,%rdx,8)
    incl %edx
    incl %r14d
    cmpl %r13d, %r14d
    jge .Lfreeb_commit
    movq (%r12,%r14,8), %r9
    PAGE_MAP_CLASS %r9, %rcx, %ecx, %rax, %eax, %rbp, %ebp, %r11, .Lfreeb_commit
    cmpl %esi, %ecx
    je .Lfreeb_push                                 /* same class: the run goes on */
.Lfreeb_commit:
    cmpl %ebx, %r14d
    je .Lfreeb_done                                 /* the run's first block did not fit */
    REGION_SELF_CHECK %rax, %eax
    movw %dx, SLAB_HEADER_OFFSET(%r10,%rsi,4)       /* commit */
.Lfreeb_post_commit:
    movl %r14d, %ebx
    jmp .Lfreeb_next
.Lfreeb_done:
    movl %ebx, %eax
    RESTORE_BATCH_REGS
    ret
    RSEQ_ABORT_HANDLER freeb, .Lfreeb_restart
    RSEQ_DESCRIPTOR freeb, .Lfreeb_start, .Lfreeb_post_commit, freeb_abort
    .size cpuslab_rseq_free_bulk, . - cpuslab_rseq_free_bulk

/*
 * int cpuslab_rseq_malloc_bulk(const desc *d [rdi], long size [rsi], long *out [rdx], int n [ecx])
 * Pops up to n blocks of the size's class from the caller's slab into out[0..k) and returns k: the
 * pop-batch section for whatever slab the caller is on. 0 on any miss and for sizes above the small limit.
 */
    .globl cpuslab_rseq_malloc_bulk
    .type cpuslab_rseq_malloc_bulk, @function
    .p2align 5
cpuslab_rseq_malloc_bulk:
    movl %ecx, %r9d
    CLASS_OF_SIZE .Lmallocb_large
    movl %r9d, %ecx
    movl $-1, %r8d                                  /* any slab */
    jmp .Lpopb_entry
.Lmallocb_large:
    xorl %eax, %eax
    ret
    .size cpuslab_rseq_malloc_bulk, . - cpuslab_rseq_malloc_bulk

/*
 * int cpuslab_rseq_grow(const desc *d [rdi], int sc [esi], int by [edx], int expected [ecx])
 * If the caller is on slab `expected`, raises the capacity (end) of class sc by up to `by`, never past
 * begin + max capacity, populating the class first (current = end = begin) if its header is zero;
 * returns the increase, 0 on any miss. Commit: 32-bit store of the whole header.
 */
    .globl cpuslab_rseq_grow
    .type cpuslab_rseq_grow, @function
    .p2align 5
cpuslab_rseq_grow:
    SAVE_BATCH_REGS
    movl %edx, %r13d                                /* by */
    movl %ecx, %r9d                                 /* expected */
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
.Lgrow_restart:
    RSEQ_ARM grow
.Lgrow_start:
    SLAB_REGION .Lgrow_miss
    cmpl %r9d, %ecx
    jne .Lgrow_miss
    movl SLAB_HEADER_OFFSET(%r10,%rsi,4), %eax
    movzwl %ax, %edx                                /* current */
    shrl $16, %eax                                  /* end */
    movzwl DESC_BEGIN(%rdi,%rsi,2), %ebx            /* begin */
    testl %eax, %eax
    jnz .Lgrow_populated
    movl %ebx, %eax                                 /* not populated: current = end = begin */
    movl %ebx, %edx
.Lgrow_populated:
    movzwl DESC_MAX_CAPACITY(%rdi,%rsi,2), %r15d
    addl %r15d, %ebx                                /* limit = begin + max capacity */
    subl %eax, %ebx                                 /* room = limit - end */
    cmpl %r13d, %ebx
    cmovgl %r13d, %ebx                              /* grown = min(by, room) */
    addl %ebx, %eax                                 /* new end */
    shll $16, %eax
    orl %edx, %eax
    SELF_CHECK %r14, %r14d
    movl %eax, SLAB_HEADER_OFFSET(%r10,%rsi,4)      /* commit */
.Lgrow_post_commit:
    movl %ebx, %eax
    RESTORE_BATCH_REGS
    ret
.Lgrow_miss:
    xorl %eax, %eax
    RESTORE_BATCH_REGS
    ret
    RSEQ_ABORT_HANDLER grow, .Lgrow_restart
    RSEQ_DESCRIPTOR grow, .Lgrow_start, .Lgrow_post_commit, grow_abort
    .size cpuslab_rseq_grow, . - cpuslab_rseq_grow

/*
 * int cpuslab_rseq_probe_spin(const volatile long *counter [rdi], long iterations [rsi])
 * The abort probe's section: snapshots *counter at the start of the section, then re-reads it up to
 * `iterations` times. Another thread pinned to the same CPU can only change it while this thread is
 * preempted, and a preempted section must be aborted before it runs on. Returns PROBE_ABORTED from
 * the abort handler (the kernel did its job), PROBE_OBSERVED if the change was seen inside one
 * section (the kernel resumed it: broken), PROBE_INCONCLUSIVE if the section was never interrupted.
 * The abort handler reports PROBE_ABORTED only if the counter moved since the section's snapshot:
 * an abort without the bumper having run (e.g. a membarrier fence from another thread) proves nothing
 * and reports PROBE_INCONCLUSIVE, so the caller tries again. The caller must be registered.
 */
    .globl cpuslab_rseq_probe_spin
    .type cpuslab_rseq_probe_spin, @function
    .p2align 5
cpuslab_rseq_probe_spin:
    movq cpuslab_rseq_offset(%rip), %r8
    RSEQ_ARM probe
    movq (%rdi), %rax                   /* snapshot for an abort before the first load in the section */
.Lprobe_start:
    movq (%rdi), %rax
    movq %rsi, %rcx
.Lprobe_loop:
    cmpq (%rdi), %rax
    jne .Lprobe_observed
    decq %rcx
    jnz .Lprobe_loop
.Lprobe_post_commit:
    movl $PROBE_INCONCLUSIVE, %eax
    ret
.Lprobe_observed:
    movl $PROBE_OBSERVED, %eax
    ret
    .byte 0x0f, 0xb9, 0x3d
    .long RSEQ_SIG
probe_abort:
    cmpq (%rdi), %rax                   /* aborted, and the bumper ran: a preemption abort */
    je .Lprobe_post_commit              /* aborted for another reason (a fence from elsewhere): no proof */
    movl $PROBE_ABORTED, %eax
    ret
    RSEQ_DESCRIPTOR probe, .Lprobe_start, .Lprobe_post_commit, probe_abort
    .size cpuslab_rseq_probe_spin, . - cpuslab_rseq_probe_spin

/* ---- overlay mode ------------------------------------------------------------------------------------
 *
 * Contract (TCMalloc's percpu.h overlay):
 *   - Each thread caches `region | 1 << 63` in the 8 bytes at rseq area - 4 (OVERLAY_WORD_OFFSET), whose
 *     upper half is rseq->cpu_id_start. A kernel in legacy mode (32-byte registration, Linux <= 6.18,
 *     7.0.10+/7.1 legacy) rewrites cpu_id_start with the CPU number (< 2^31) after every context switch,
 *     before every signal handler and in every membarrier-RSEQ IPI, which clears the tag: a tagged word
 *     proves that none of those happened since it was cached, so its region is still this CPU's.
 *   - pop and push read only that word and this allocator's base and slab bytes (a word cached for
 *     another allocator, or for this one before it closed, is out of range and misses): no cpu_id,
 *     no stop word. Core's remote work (stop word + fence of the CPU) is excluded because the fence
 *     interrupts the thread running on that CPU, whose tag the kernel clears before it runs on, while
 *     every other thread cached there is switched out and gets the rewrite when it next runs; and
 *     re-caching refuses a stopped slab. An all-CPU fence skips the calling thread, so Java drops the
 *     stopping or closing thread's own word itself (cpuslab_rseq_overlay_uncache).
 *   - The slow-path sections (batches, grow) stay the compliant ones: they check everything inside.
 * On a kernel that does not rewrite cpu_id_start (6.19, 7.0 before the fix) the tag survives
 * preemption and fences, and these sections then commit into stopped slabs: blocks are handed out
 * twice. That is why overlay mode is refused unless the out-of-process probe passed.
 */


/* Inside an overlay section: %r10 = the cached slab region, or jump to \miss if the tag is gone or the
 * region is not one of this allocator's slabs (a word cached for another allocator, or this one closed:
 * slab bytes 0). Clobbers %r11. */
.macro CACHED_REGION miss
    movq %fs:OVERLAY_WORD_OFFSET(%r8), %r10
    btrq $OVERLAY_TAG_BIT, %r10                     /* CF = tag; the register keeps the bare region */
    jnc \miss
    movq %r10, %r11
    subq DESC_BASE(%rdi), %r11
    cmpq DESC_SLAB_BYTES(%rdi), %r11                /* unsigned: below base wraps around and misses too */
    jae \miss
.endm

#include "cpuslab_sections.inc"

/*
 * int cpuslab_rseq_overlay_cache(const desc *d [rdi])
 * Caches the caller's slab region in its slab word and returns the slab index; on a miss (thread not
 * registered, allocator closed, index out of range, slab stopped) leaves the word untagged and
 * returns -1. TCMalloc's CacheCpuSlab ordering:
 *   1. store the bare tag (no region): from here any preemption, signal or fence clears it;
 *   2. in a section: the tag must still be there (else go back to 1), then the compliant checks
 *      (cpu_id, slab count, index, stop word, read with the section's guarantees);
 *   3. commit: ONE 8-byte store of region | tag, which also writes cpu_id_start.
 * TCMalloc needs 1 and the tag check because it reads the CPU before its section; here everything is
 * read inside the section, which alone gives the same guarantee. The two steps are kept so the order
 * is TCMalloc's, at the cost of one store and one load per re-cache.
 * A fence that stops the slab after 2 read the stop word either aborts the section or, after the
 * commit, clears the new tag: either way no overlay operation reaches the stopped slab.
 */
    .globl cpuslab_rseq_overlay_cache
    .type cpuslab_rseq_overlay_cache, @function
    .p2align 5
cpuslab_rseq_overlay_cache:
    movq cpuslab_rseq_offset(%rip), %r8
    movabsq $1 << OVERLAY_TAG_BIT, %rdx
.Lcache_retag:
    movq %rdx, %fs:OVERLAY_WORD_OFFSET(%r8)        /* 1. the bare tag */
.Lcache_restart:
    RSEQ_ARM cache
.Lcache_start:
    btq $OVERLAY_TAG_BIT, %fs:OVERLAY_WORD_OFFSET(%r8)
    jnc .Lcache_retag                               /* 2. cleared since 1: start over */
    SLAB_REGION .Lcache_miss                        /* %ecx index, %r10 region */
    movq %r10, %rax
    orq %rdx, %rax
    SELF_CHECK %r9, %r9d
    movq %rax, %fs:OVERLAY_WORD_OFFSET(%r8)        /* 3. commit */
.Lcache_post_commit:
    movl %ecx, %eax
    ret
.Lcache_miss:
    movq $0, %fs:OVERLAY_WORD_OFFSET(%r8)          /* untagged: overlay pop/push miss */
    movl $-1, %eax
    ret
    RSEQ_ABORT_HANDLER cache, .Lcache_restart
    RSEQ_DESCRIPTOR cache, .Lcache_start, .Lcache_post_commit, cache_abort
    .size cpuslab_rseq_overlay_cache, . - cpuslab_rseq_overlay_cache

#ifdef CPUSLAB_SELF_CHECK
/*
 * int cpuslab_rseq_test_restore_slab_word(const desc *d [rdi], long word [rsi])
 * Test hook (self-check build only) that simulates Linux 6.19 on x86-64, which rewrites cpu_id_start
 * only when the CPU changes: puts `word` back as the caller's slab word if its region is the slab of
 * the CPU the caller runs on, checked and stored in one section so that a migration in between aborts
 * it. Ignores the stop word, as a word the kernel never cleared would. Returns 1 if it did, else 0.
 * Commit: the 8-byte store of the word.
 */
    .globl cpuslab_rseq_test_restore_slab_word
    .type cpuslab_rseq_test_restore_slab_word, @function
    .p2align 5
cpuslab_rseq_test_restore_slab_word:
    movq cpuslab_rseq_offset(%rip), %r8
    movq %rsi, %rdx
    btrq $OVERLAY_TAG_BIT, %rdx                     /* the bare region */
.Lrestore_restart:
    RSEQ_ARM restore
.Lrestore_start:
    movl DESC_INDEX_FIELD(%rdi), %r11d
    movl %fs:(%r8,%r11), %ecx                       /* this CPU (or mm_cid), zero-extended */
    shlq $SLAB_SHIFT, %rcx
    addq DESC_BASE(%rdi), %rcx
    cmpq %rcx, %rdx
    jne .Lrestore_miss
    movq %rsi, %fs:OVERLAY_WORD_OFFSET(%r8)        /* commit */
.Lrestore_post_commit:
    movl $1, %eax
    ret
.Lrestore_miss:
    xorl %eax, %eax
    ret
    RSEQ_ABORT_HANDLER restore, .Lrestore_restart
    RSEQ_DESCRIPTOR restore, .Lrestore_start, .Lrestore_post_commit, restore_abort
    .size cpuslab_rseq_test_restore_slab_word, . - cpuslab_rseq_test_restore_slab_word
#endif
