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
#define SLAB_HINT_OFFSET     4    /* u32 the class of the last free here: a hint the free sections keep */
#define SLAB_HEADER_OFFSET   8    /* u32 per size class: u16 current (low), u16 end (high), word indexes */

/* struct cpuslab_desc: one per allocator, written by Java, read inside every critical section. */
#define DESC_BASE            0    /* u64 address of slab 0 */
#define DESC_NSLABS          8    /* u32 number of slabs; 0 once the allocator closed */
#define DESC_INDEX_FIELD     12   /* u32 offset in struct rseq of the slab index: cpu_id or mm_cid */
#define DESC_BEGIN           16   /* u16[48] first slot word index per class */
#define DESC_MAX_CAPACITY    112  /* u16[48] most slots per class */
#define DESC_SLAB_BYTES      208  /* u64 nslabs << SLAB_SHIFT; 0 once closed: overlay's range check */
#define DESC_PAGE_MAP        216  /* u64 address of the page map's root; 0 once closed */
#define DESC_SIZE            224

/* The allocator's native page map (io.cpuslab.core.NativePageMap, TCMalloc's PageMap::sizeclass): a
 * radix tree over 48-bit addresses in 8 KiB pages. The root starts with a hint, the number and address
 * of one leaf (the first mapped; number all ones before), then has PAGE_MAP_ROOT_ENTRIES u64 leaf
 * addresses (0: no leaf); a leaf has 1 << PAGE_MAP_LEAF_BITS u16 entries, one per page: the size
 * class of the small span holding the page in the low byte (0: none), the page's index in that span
 * in the high byte. Java writes it under the page heap lock; the free sections read it. */
#define PAGE_SHIFT           13
#define PAGE_MAP_LEAF_BITS   18
#define PAGE_MAP_HINT_KEY    0    /* u64 the hinted leaf's number (address >> 31) */
#define PAGE_MAP_HINT_LEAF   8    /* u64 its address, 0 until set */
#define PAGE_MAP_ROOT        16   /* u64[PAGE_MAP_ROOT_ENTRIES] */
#define PAGE_MAP_ROOT_ENTRIES (1 << (48 - PAGE_SHIFT - PAGE_MAP_LEAF_BITS))
#define PAGE_MAP_ENTRY_INDEX_SHIFT 8

/* Size classes (io.cpuslab.core.SizeClasses): the request size to class lookup, TCMalloc's SizeMap
 * index. Sizes up to SMALL_LOOKUP_LIMIT step by 8 bytes, larger ones up to MAX_SMALL_SIZE by 128. The
 * tables themselves come from Java once (cpuslab_rseq_set_classes). */
#define CLASS_COUNT          48
#define MAX_SMALL_SIZE       262144
#define SMALL_LOOKUP_LIMIT   1024
#define LARGE_INDEX_OFFSET   (127 + (120 << 7))
#define CLASS_INDEX_ENTRIES  (((MAX_SMALL_SIZE + LARGE_INDEX_OFFSET) >> 7) + 1)

/* The library's size-class tables (struct classes in cpuslab_rseq.c, symbol cpuslab_classes), one
 * block so one address serves every lookup. */
#define CLASSES_MAGIC        0                                     /* u64[CLASS_COUNT] */
#define CLASSES_MAGIC_LIMIT  (CLASSES_MAGIC + 8 * CLASS_COUNT)     /* u64[CLASS_COUNT] */
#define CLASSES_LIMIT        (CLASSES_MAGIC_LIMIT + 8 * CLASS_COUNT) /* u32[CLASS_COUNT] */
#define CLASSES_INDEX        (CLASSES_LIMIT + 4 * CLASS_COUNT)     /* u8[CLASS_INDEX_ENTRIES] */

/* Results of the abort probe. */
#define PROBE_ABORTED        0    /* the kernel aborted the critical section: correct */
#define PROBE_OBSERVED       1    /* another thread's write was seen inside one critical section: broken */
#define PROBE_INCONCLUSIVE   2    /* the section was never interrupted */
#define PROBE_SKIPPED        3    /* the probe needs two CPUs this process may run on */


#ifndef __ASSEMBLER__
#include <stdint.h>

/* Everything the library exports: the Java bindings (RseqLibrary) and the C tests use exactly these.
 * `d` is a struct cpuslab_desc; each function's contract is above its definition. */
long cpuslab_rseq_malloc_cpu_id(const void *d, long size);
long cpuslab_rseq_malloc_mm_cid(const void *d, long size);
long cpuslab_rseq_malloc_overlay(const void *d, long size);
int cpuslab_rseq_free_cpu_id(const void *d, long block);
int cpuslab_rseq_free_mm_cid(const void *d, long block);
int cpuslab_rseq_free_overlay(const void *d, long block);
int cpuslab_rseq_malloc_bulk(const void *d, long size, long *out, int n);
int cpuslab_rseq_free_bulk(const void *d, const long *blocks, int n);
long cpuslab_rseq_pop(const void *d, int sc);
int cpuslab_rseq_push(const void *d, int sc, long item);
int cpuslab_rseq_push_batch(const void *d, int sc, const long *items, int n, int expected);
int cpuslab_rseq_pop_batch(const void *d, int sc, long *items, int max, int expected);
int cpuslab_rseq_grow(const void *d, int sc, int by, int expected);
long cpuslab_rseq_overlay_pop(const void *d, int sc);
int cpuslab_rseq_overlay_push(const void *d, int sc, long item);
int cpuslab_rseq_overlay_cache(const void *d);
void cpuslab_rseq_overlay_uncache(void);
int cpuslab_rseq_set_classes(const uint8_t *index, int entries, const int32_t *sizes, const int32_t *objects, int classes);
int cpuslab_rseq_init(void);
int cpuslab_rseq_register(void);
unsigned int cpuslab_rseq_own_length(void);
int cpuslab_rseq_current(int field_offset);
int cpuslab_rseq_fence_cpu(int cpu);
int cpuslab_rseq_fence_all(void);
int cpuslab_rseq_probe_abort(void);
int cpuslab_rseq_probe_fence_abort(void);
int cpuslab_rseq_probe_spin(const volatile long *counter, long iterations);
const void *cpuslab_rseq_descriptors(int *count);
unsigned int cpuslab_rseq_signature(void);
/* A constant the Java side shares, by name (cpuslab_rseq_constants). */
struct cpuslab_constant {
    const char *name;
    int64_t value;
};
const struct cpuslab_constant *cpuslab_rseq_constants(int *count);
#ifdef CPUSLAB_SELF_CHECK
/* Test hooks of the self-checking build only. */
void cpuslab_rseq_set_inject_loops(int loops);
void cpuslab_rseq_test_fake_registration(int index);
long cpuslab_rseq_test_slab_word(void);
int cpuslab_rseq_test_restore_slab_word(const void *d, long word);
const void *cpuslab_rseq_test_area(void);
#endif
#endif

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
