/*
 * cpuslab rseq critical sections, x86-64: compliant mode, and overlay mode's pop, push and re-cache
 * (at the end of the file, with their own contract).
 *
 * Every section follows one pattern (librseq's, adapted to the slab layout of SlabLayout.java):
 *   1. arm:    store the address of the section's descriptor into rseq->rseq_cs
 *   2. start:  load cpu_id (registered and below nslabs?), then the slab index (cpu_id or mm_cid,
 *              per the allocator descriptor), the region, and the region's stop word; any failure
 *              leaves through a miss label without storing anything
 *   3. work:   loads, and stores into slots above `current` that nobody reads until the commit
 *   4. commit: ONE store of the class header (16-bit `current`, or the 32-bit header for grow)
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
 * %r8 = rseq offset; clobbers %eax, %r11. cpu_id is checked first even in mm_cid mode: it is negative
 * while the thread has no registration, and only then is mm_cid meaningless. */
.macro SLAB_REGION miss
    movl %fs:RSEQ_CPU_ID_OFFSET(%r8), %eax
    cmpl DESC_NSLABS(%rdi), %eax            /* unsigned: -1/-2 and closed (nslabs 0) miss too */
    jae \miss
    movl DESC_INDEX_FIELD(%rdi), %r11d
    movl %fs:(%r8,%r11), %ecx               /* cpu_id or mm_cid */
    cmpl DESC_NSLABS(%rdi), %ecx
    jae \miss
    movl %ecx, %r10d
    shlq $SLAB_SHIFT, %r10
    addq DESC_BASE(%rdi), %r10
    cmpl $0, SLAB_STOP_OFFSET(%r10)         /* core is draining or resizing this slab */
    jne \miss
.endm

/* Self-check build, right before a commit: first spin cpuslab_rseq_inject_loops times (0 unless a test
 * sets it) to widen the window in which preemption, migration, signals and fences must abort the
 * section (librseq's delay injection); then the index must still be %ecx, else ud2 kills the process.
 * %r11 still holds the index field offset; \scratch32 is a register the section no longer needs
 * (\scratch, its 64-bit name, is unused here: the signature is OVERLAY_SELF_CHECK's). */
.macro SELF_CHECK scratch, scratch32
#ifdef CPUSLAB_SELF_CHECK
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

    .text

/* Pop and push, compliant and overlay: one body each. \region finds the slab region in %r10 or jumps
 * to the miss label (SLAB_REGION, or overlay's CACHED_REGION); \check is the self-check build's test
 * right before the commit (SELF_CHECK, or OVERLAY_SELF_CHECK). */
.macro POP_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
\symbol:
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
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
    .size \symbol, . - \symbol
.endm

/* The slot store happens above `current` and is published by the commit. */
.macro PUSH_SECTION symbol, name, region, check
    .globl \symbol
    .type \symbol, @function
\symbol:
    movq cpuslab_rseq_offset(%rip), %r8
    movslq %esi, %rsi
    movq %rdx, %r9                                  /* item */
.L\name\()_restart:
    RSEQ_ARM \name
.L\name\()_start:
    \region .L\name\()_miss
    movl SLAB_HEADER_OFFSET(%r10,%rsi,4), %eax      /* current | end << 16 */
    movzwl %ax, %edx                                /* current */
    shrl $16, %eax                                  /* end */
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
    movl SLAB_HEADER_OFFSET(%r10,%rsi,4), %eax
    movzwl %ax, %edx                                /* current */
    shrl $16, %eax                                  /* end */
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
 * If the caller is on slab `expected`, pops k = min(max, objects) objects into items[0..k), most
 * recent first, and returns k; returns 0 on any miss. Stores into items before the commit are
 * scratch: an aborted attempt's values are overwritten by the restart and Java reads only k.
 * Commit: 16-bit store of current - k.
 */
    .globl cpuslab_rseq_pop_batch
    .type cpuslab_rseq_pop_batch, @function
cpuslab_rseq_pop_batch:
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
    jne .Lpopb_miss
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
 * int cpuslab_rseq_grow(const desc *d [rdi], int sc [esi], int by [edx], int expected [ecx])
 * If the caller is on slab `expected`, raises the capacity (end) of class sc by up to `by`, never past
 * begin + max capacity, populating the class first (current = end = begin) if its header is zero;
 * returns the increase, 0 on any miss. Commit: 32-bit store of the whole header.
 */
    .globl cpuslab_rseq_grow
    .type cpuslab_rseq_grow, @function
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

/* Self-check build, overlay sections: after the delay, the cached region in %r10 must still be the
 * region of the index the kernel reports now (base + index << SLAB_SHIFT), else ud2. Needs %rdi, %r8;
 * \scratch/\scratch32 is a free register, %r11 is clobbered. */
.macro OVERLAY_SELF_CHECK scratch, scratch32
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

/*
 * long cpuslab_rseq_overlay_pop(const desc *d [rdi], int sc [esi])
 * Pops from the cached slab; 0 when the cache is invalid (tag gone) or the class is empty.
 * Commit: 16-bit store of current - 1.
 */
    POP_SECTION cpuslab_rseq_overlay_pop, opop, CACHED_REGION, OVERLAY_SELF_CHECK

/*
 * int cpuslab_rseq_overlay_push(const desc *d [rdi], int sc [esi], long item [rdx])
 * Pushes onto the cached slab; 0 when the cache is invalid or the class is full.
 * Commit: 16-bit store of current + 1.
 */
    PUSH_SECTION cpuslab_rseq_overlay_push, opush, CACHED_REGION, OVERLAY_SELF_CHECK

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
