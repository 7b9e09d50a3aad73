/*
 * Constants shared by the C part, the assembly and (mirrored) the Java bindings of the cpuslab rseq
 * front end, and (for assembly only) the descriptor macro. Included from .c and .S files.
 */
#ifndef CPUSLAB_RSEQ_H
#define CPUSLAB_RSEQ_H

/* struct rseq (include/uapi/linux/rseq.h): the fields we read or write. */
#define RSEQ_CPU_ID_OFFSET   4    /* u32 cpu_id: -1 uninitialised, -2 registration failed */
#define RSEQ_CS_OFFSET       8    /* u64 rseq_cs: the only field user space writes */
#define RSEQ_MM_CID_OFFSET   24   /* u32 mm_cid, Linux >= 6.3 */

/* Overlay mode's cached slab word: the 8 bytes at rseq area - 4, so its upper half IS cpu_id_start
 * (little-endian). Holds slab region | OVERLAY_TAG while valid. Real CPU numbers are below 2^31, so any
 * kernel rewrite of cpu_id_start clears the tag (bit 63): TCMalloc's percpu.h overlay. Only in a block
 * laid out by us (own registration); never next to glibc's area. */
#define OVERLAY_WORD_OFFSET  (-4)
#define OVERLAY_TAG_BIT      63

/* Signature the kernel checks in the 4 bytes before every abort handler; the values glibc registers
 * with (and librseq and TCMalloc use). On aarch64 it is the instruction BRK #0x45e0, so it traps if run. */
#if defined(__aarch64__)
#define RSEQ_SIG             0xd428bc00
#else
#define RSEQ_SIG             0x53053053

#endif

/* Slab layout, owned by io.cpuslab.core.SlabLayout. */
#define SLAB_SHIFT           18   /* bytes per slab region: 256 KiB */
#define SLAB_STOP_OFFSET     0    /* u32 stop word, non-zero while core works on the slab */
#define SLAB_HEADER_OFFSET   8    /* u32 per size class: u16 current (low), u16 end (high), word indexes */

/* struct cpuslab_desc: one per allocator, written by Java, read inside every critical section. */
#define DESC_BASE            0    /* u64 address of slab 0 */
#define DESC_NSLABS          8    /* u32 number of slabs; 0 once the allocator closed */
#define DESC_INDEX_FIELD     12   /* u32 offset in struct rseq of the slab index: cpu_id or mm_cid */
#define DESC_BEGIN           16   /* u16[48] first slot word index per class */
#define DESC_MAX_CAPACITY    112  /* u16[48] most slots per class */
#define DESC_SLAB_BYTES      208  /* u64 nslabs << SLAB_SHIFT; 0 once closed: overlay's range check */
#define DESC_SIZE            216

/* Results of the abort probe. */
#define PROBE_ABORTED        0    /* the kernel aborted the critical section: correct */
#define PROBE_OBSERVED       1    /* another thread's write was seen inside one critical section: broken */
#define PROBE_INCONCLUSIVE   2    /* the section was never interrupted */
#define PROBE_SKIPPED        3    /* the probe needs two CPUs this process may run on */


#ifdef __ASSEMBLER__
/* The 32-byte rseq_cs descriptor the kernel reads (version 0, flags 0, start_ip, post_commit_offset,
 * abort_ip), 32-byte aligned in __rseq_cs, plus its address in __rseq_cs_ptr_array, the table
 * debuggers look for (librseq's and TCMalloc's section names). Architecture-neutral. */
.macro RSEQ_DESCRIPTOR name, start, post_commit, abort
    .pushsection __rseq_cs, "aw"
    .balign 32
\name\()_rseq_cs:
    .long 0                             /* version */
    .long 0                             /* flags */
    .quad \start                        /* start_ip */
    .quad \post_commit - \start         /* post_commit_offset */
    .quad \abort                        /* abort_ip */
    .popsection
    .pushsection __rseq_cs_ptr_array, "aw"
    .balign 8
    .quad \name\()_rseq_cs
    .popsection
.endm
#endif

#endif
