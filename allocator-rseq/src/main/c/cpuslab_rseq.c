/*
 * cpuslab rseq support: everything around the critical sections (rseq_x86_64.S, rseq_aarch64.S).
 *
 *   cpuslab_rseq_init        once per process: finds who registers rseq (glibc or us), sets the
 *                            offset the sections use, registers for membarrier-RSEQ fences
 *   cpuslab_rseq_register    once per thread in own-registration mode (lazily, from the slow path)
 *   cpuslab_rseq_current     the caller's slab index as a hint (no critical section)
 *   cpuslab_rseq_fence_*     abort every critical section running on one CPU / all CPUs
 *   cpuslab_rseq_probe_abort proves that this kernel aborts a preempted critical section
 *   cpuslab_rseq_overlay_uncache  drops the caller's cached overlay slab word
 *   cpuslab_rseq_set_classes the size-class tables malloc and free read, once from Java
 *   cpuslab_rseq_constants   the layout and status constants by name, which Java checks against its own
 *
 * Nothing here is called inside a critical section.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpuslab_rseq.h"

#ifndef AT_RSEQ_FEATURE_SIZE
#define AT_RSEQ_FEATURE_SIZE 27
#endif
#define RSEQ_ORIG_SIZE 32
#define MEMBARRIER_CMD_QUERY 0
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (1 << 7)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ (1 << 8)
#define MEMBARRIER_CMD_FLAG_CPU (1 << 0)

/* Status bits returned by cpuslab_rseq_init. */
#define STATUS_OK              (1 << 0)
#define STATUS_GLIBC_OWNS      (1 << 1)   /* glibc registered rseq for every thread: reuse it */
#define STATUS_MM_CID          (1 << 2)   /* the registration covers mm_cid (feature size >= 28) */
#define STATUS_NO_RSEQ         (1 << 8)   /* the rseq syscall is missing or blocked */
#define STATUS_NO_MEMBARRIER   (1 << 9)   /* no membarrier-RSEQ: remote drain cannot be fenced */
#define STATUS_REGISTER_FAILED (1 << 10)  /* own registration of the init thread failed */
#define STATUS_BAD_TLS         (1 << 11)  /* own area misaligned (TLS did not honour the alignment) */

/* Our own area, for processes where glibc does not register (GLIBC_TUNABLES=glibc.pthread.rseq=0).
 * Initial-exec TLS, so its offset from the thread pointer is the same in every thread and the
 * critical sections can use %fs:offset for it exactly as for glibc's area. cpu_id and mm_cid start at
 * -1 in every new thread, so a thread that has not registered yet can only miss.
 *
 * TCMalloc's layout in miniature: a 64-byte, 64-aligned block with the 32-byte struct rseq at offset 32,
 * so that overlay mode's cached slab word (offsets 28..35, OVERLAY_WORD_OFFSET) shares its cache line
 * and its upper half is cpu_id_start. The registration is always exactly 32 bytes, the kernel's legacy
 * mode (what glibc 2.35-2.40 register too): overlay mode depends on legacy mode's unconditional ID
 * rewrites, and one registration per thread must serve both modes. Compliant mode loses nothing on
 * kernels up to 6.18 (feature size <= 32); from 7.0 it forgoes the optimized V2 mode in processes
 * that turned glibc's registration off. */
struct rseq_area {               /* the original 32-byte struct rseq */
    uint32_t cpu_id_start;      /* overlay: high half of the cached slab word */
    uint32_t cpu_id;
    uint64_t rseq_cs;
    uint32_t flags;
    uint32_t node_id;
    uint32_t mm_cid;
    uint32_t unused;
};

struct own_rseq_block {
    uint32_t unused[7];
    uint32_t slab_word_low;     /* overlay: low half of the cached slab word */
    struct rseq_area area;
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct own_rseq_block, area) == 32, "rseq area at offset 32");
_Static_assert(offsetof(struct own_rseq_block, area) + OVERLAY_WORD_OFFSET
               == offsetof(struct own_rseq_block, slab_word_low), "slab word right below cpu_id_start");
_Static_assert(sizeof(struct rseq_area) == RSEQ_ORIG_SIZE, "32-byte registration");

static __thread struct own_rseq_block own __attribute__((tls_model("initial-exec"))) = {
    .area = {.cpu_id = (uint32_t) -1, .mm_cid = (uint32_t) -1},
};

/* Offset of the rseq area from the thread pointer; read by every critical section. */
__attribute__((visibility("hidden"))) long cpuslab_rseq_offset;

/* Size-class tables, read by the malloc and free sections (hidden: addressed pc-relative, no GOT load).
 * Written once by cpuslab_rseq_set_classes before any allocator exists; constant afterwards. */
struct classes {
    /* Per class: UINT64_MAX / size + 1, so that an offset n < 2^32 is a multiple of the size exactly
     * when n * magic (mod 2^64) <= magic - 1 = magic_limit (Lemire, Kaser, Kurz, "Faster remainder by
     * direct computation", 2019): the interior-pointer test in one multiply. */
    uint64_t magic[CLASS_COUNT];
    uint64_t magic_limit[CLASS_COUNT];
    /* Per class: bytes at the start of a span that hold whole objects (objects per span * size); an
     * offset at or beyond it is the span's unused tail. */
    uint32_t limit[CLASS_COUNT];
    /* Lookup index of a request size -> class. */
    uint8_t index[CLASS_INDEX_ENTRIES];
};
_Static_assert(offsetof(struct classes, magic_limit) == CLASSES_MAGIC_LIMIT, "classes layout");
_Static_assert(offsetof(struct classes, limit) == CLASSES_LIMIT, "classes layout");
_Static_assert(offsetof(struct classes, index) == CLASSES_INDEX, "classes layout");

__attribute__((visibility("hidden"), aligned(64))) struct classes cpuslab_classes;

static int glibc_owns;
static unsigned int registered_size; /* bytes of struct rseq the kernel maintains for us */

static inline char *thread_pointer(void) {
    char *tp;
#if defined(__x86_64__)
    __asm__ ("mov %%fs:0, %0" : "=r"(tp));
#elif defined(__aarch64__)
    __asm__ ("mrs %0, tpidr_el0" : "=r"(tp));
#else
#error "cpuslab rseq supports x86-64 and aarch64"
#endif
    return tp;
}

/* The calling thread's struct rseq, glibc's or ours: same field offsets up to mm_cid. */
static inline volatile struct rseq_area *area(void) {
    return (volatile struct rseq_area *) (thread_pointer() + cpuslab_rseq_offset);
}

static long sys_rseq(void *rseq, unsigned int len, int flags, unsigned int sig) {
    return syscall(__NR_rseq, rseq, len, flags, sig);
}

/* Set in a thread whose registration failed (e.g. EINVAL: another area is registered for it), so its
 * slow paths do not retry the system call on every miss. */
static __thread int registration_error;

/* Registers the calling thread's own area; 0 on success (also when it already was), else the errno. */
int cpuslab_rseq_register(void) {
    if (glibc_owns || (int32_t) own.area.cpu_id >= 0) {
        return 0;
    }
    if (registration_error == 0 && sys_rseq(&own.area, RSEQ_ORIG_SIZE, 0, RSEQ_SIG) != 0 && errno != EBUSY) {
        registration_error = errno;
    }
    return registration_error;
}

/* Once per process. Returns STATUS_* bits; STATUS_OK only when the rseq front end can run. */
int cpuslab_rseq_init(void) {
    int status = 0;
    /* Does the kernel have rseq at all? rseq(NULL, 0, 0, 0) fails with EINVAL if so, ENOSYS if not. */
    if (sys_rseq(NULL, 0, 0, 0) == 0 || errno != EINVAL) {
        return STATUS_NO_RSEQ;
    }
    unsigned long feature_size = getauxval(AT_RSEQ_FEATURE_SIZE);

    /* glibc >= 2.35 exports where its area is; __rseq_size 0 means it did not register. */
    const ptrdiff_t *glibc_offset = dlsym(RTLD_DEFAULT, "__rseq_offset");
    const unsigned int *glibc_size = dlsym(RTLD_DEFAULT, "__rseq_size");
    if (glibc_offset != NULL && glibc_size != NULL && *glibc_size != 0) {
        glibc_owns = 1;
        cpuslab_rseq_offset = *glibc_offset;
        /* glibc 2.35-2.40 report 20 or 32 but the kernel maintains the whole 32-byte original area,
         * which includes mm_cid from Linux 6.3 (librseq's rule). */
        unsigned int size = *glibc_size;
        registered_size = (size == 20 || size == 32) ? (feature_size < 32 ? (unsigned) feature_size : 32) : size;
        status |= STATUS_GLIBC_OWNS;
    } else {
        cpuslab_rseq_offset = (char *) &own.area - thread_pointer();
        if (((uintptr_t) &own & 63) != 0) {
            return STATUS_BAD_TLS;
        }
        /* Before Linux 6.3 (no feature size) the kernel maintains the original 20 bytes. */
        registered_size = feature_size == 0 ? 20 : (feature_size < RSEQ_ORIG_SIZE ? (unsigned) feature_size : RSEQ_ORIG_SIZE);
        if (cpuslab_rseq_register() != 0) {
            return STATUS_REGISTER_FAILED;
        }
    }
    if (registered_size >= RSEQ_MM_CID_OFFSET + 4) {
        status |= STATUS_MM_CID;
    }
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) != 0) {
        return status | STATUS_NO_MEMBARRIER;
    }
    return status | STATUS_OK;
}

/* Installs the size-class tables from io.cpuslab.core.SizeClasses: index[CLASS_INDEX_ENTRIES] maps a
 * lookup index to a class, sizes[] and objects[] give each class's object size and objects per span
 * (class 0 unused). Returns 0, or -1 when the tables do not fit this library's constants (a Java side
 * and a library that disagree on the layout): nothing is installed then. */
int cpuslab_rseq_set_classes(const uint8_t *index, int entries, const int32_t *sizes, const int32_t *objects, int classes) {
    if (entries != CLASS_INDEX_ENTRIES || classes != CLASS_COUNT) {
        return -1;
    }
    for (int i = 0; i < entries; i++) {
        if (index[i] == 0 || index[i] >= CLASS_COUNT) {
            return -1;
        }
    }
    for (int sc = 1; sc < classes; sc++) {
        if (sizes[sc] <= 0 || sizes[sc] > MAX_SMALL_SIZE || objects[sc] <= 0
                || (int64_t) sizes[sc] * objects[sc] > (1L << (PAGE_SHIFT + 8))) {
            return -1; /* also: a span's pages must be countable in an entry's high byte */
        }
    }
    memcpy(cpuslab_classes.index, index, CLASS_INDEX_ENTRIES);
    for (int sc = 1; sc < classes; sc++) {
        cpuslab_classes.limit[sc] = (uint32_t) (sizes[sc] * objects[sc]);
        cpuslab_classes.magic[sc] = UINT64_MAX / (uint64_t) sizes[sc] + 1;
        cpuslab_classes.magic_limit[sc] = cpuslab_classes.magic[sc] - 1;
    }
    return 0;
}

/* Length of our own registration (0 when glibc owns it); for reports. */
unsigned int cpuslab_rseq_own_length(void) {
    return glibc_owns ? 0 : RSEQ_ORIG_SIZE;
}

/* Drops this thread's cached overlay slab word, so its next overlay operation misses and re-caches.
 * Needed where the kernel does not do it for us: a fence of all CPUs skips the caller's own CPU
 * (TCMalloc's FenceAllCpus uncaches its own thread first for the same reason). */
void cpuslab_rseq_overlay_uncache(void) {
    if (!glibc_owns) {
        own.area.cpu_id_start = 0;
    }
}

/* The caller's slab index (cpu_id or mm_cid at field_offset), or -1 if the thread is not registered. */
int cpuslab_rseq_current(int field_offset) {
    volatile struct rseq_area *rs = area();
    if ((int32_t) rs->cpu_id < 0) {
        return -1;
    }
    return *(volatile int32_t *) ((volatile char *) rs + field_offset);
}

/* Aborts every critical section running on `cpu` (0, or errno). An offline CPU has nothing to abort. */
int cpuslab_rseq_fence_cpu(int cpu) {
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, cpu) == 0
            || errno == ENXIO) {
        return 0;
    }
    return errno;
}

/* Aborts every critical section of this process on every CPU (mm_cid mode, close). */
int cpuslab_rseq_fence_all(void) {
    return syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0 ? 0 : errno;
}

/* ---- the abort probe ---------------------------------------------------------------------------- */

struct probe {
    volatile long counter;
    volatile int done;
    int cpu;
    int result;
};

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Spins inside a critical section until the kernel aborts it, or gives up. Signals are blocked: an
 * abort on signal delivery (which the arm64 bug left working) must not pass for a preemption abort. */
static void *probe_spinner(void *arg) {
    struct probe *p = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    p->result = -1;
    if (pin(p->cpu) != 0 || cpuslab_rseq_register() != 0 || (int32_t) area()->cpu_id < 0) {
        p->done = 1;
        return NULL;
    }
    int result = PROBE_INCONCLUSIVE;
    for (int attempt = 0; attempt < 50 && result == PROBE_INCONCLUSIVE && !p->done; attempt++) {
        result = cpuslab_rseq_probe_spin(&p->counter, 100L * 1000 * 1000);
    }
    p->result = result;
    p->done = 1;
    return NULL;
}

/* Bumps the counter whenever it gets the CPU: only possible while the spinner is preempted. */
static void *probe_bumper(void *arg) {
    struct probe *p = arg;
    if (pin(p->cpu) != 0) {
        return NULL;
    }
    while (!p->done) {
        __atomic_fetch_add(&p->counter, 1, __ATOMIC_RELAXED);
        sched_yield();
    }
    return NULL;
}

/*
 * Proves that a critical section preempted on its CPU is aborted, not resumed (what Linux 6.19 to
 * 7.0.13 broke on arm64). Two threads of our own are pinned to the caller's current CPU: one spins in
 * a critical section watching a counter, the other bumps the counter whenever it runs. Returns
 * PROBE_ABORTED when the kernel is correct, PROBE_OBSERVED when it is broken, PROBE_INCONCLUSIVE or a
 * negative value (-errno) when the probe could not run.
 */
int cpuslab_rseq_probe_abort(void) {
    struct probe p = {.counter = 0, .done = 0, .cpu = sched_getcpu(), .result = -1};
    if (p.cpu < 0) {
        return -errno;
    }
    pthread_t spinner, bumper;
    int rc = pthread_create(&spinner, NULL, probe_spinner, &p);
    if (rc != 0) {
        return -rc;
    }
    rc = pthread_create(&bumper, NULL, probe_bumper, &p);
    if (rc != 0) {
        p.done = 1;
        pthread_join(spinner, NULL);
        return -rc;
    }
    pthread_join(spinner, NULL);
    p.done = 1;
    pthread_join(bumper, NULL);
    return p.result;
}

/*
 * Proves that a membarrier-RSEQ IPI aborts a critical section running on the target CPU, which every
 * drain relies on. A spinner pinned to one CPU spins in the probe section watching a counter; a fencer
 * pinned to another CPU fences the spinner's CPU and only then bumps the counter. A correct kernel
 * aborts the section on the IPI's return to user space, before the bump can be seen; a section that
 * sees the bump was not aborted. An abort without the bump (the spinner was preempted instead, common
 * on a loaded machine) proves nothing and the round does not count: rounds go on until FENCE_PROOFS
 * rounds proved the abort, one showed the bug, or FENCE_MAX_ROUNDS ran. Returns PROBE_ABORTED,
 * PROBE_OBSERVED, PROBE_INCONCLUSIVE, or PROBE_SKIPPED when this process may run on one CPU only.
 */
#define FENCE_PROOFS 3
#define FENCE_MAX_ROUNDS 2000

struct fence_probe {
    volatile long counter;
    volatile int round;        /* set by the fencer: the spinner may start this round (-1: finish) */
    volatile int ready;        /* set by the spinner: about to enter the section for this round */
    volatile int finished;     /* set by the spinner: this round's section returned */
    volatile int result;       /* the last round's result */
    int spinner_cpu;
    int fencer_cpu;
    volatile int failed;
};

static void *fence_probe_spinner(void *arg) {
    struct fence_probe *p = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (pin(p->spinner_cpu) != 0 || cpuslab_rseq_register() != 0 || (int32_t) area()->cpu_id < 0) {
        p->failed = 1;
        return NULL;
    }
    for (int r = 1; ; r++) {
        while (p->round < r && p->round >= 0) {
        }
        if (p->round < 0) {
            return NULL;
        }
        p->ready = r;
        p->result = cpuslab_rseq_probe_spin(&p->counter, 1000L * 1000 * 1000);
        p->finished = r;
    }
}

int cpuslab_rseq_probe_fence_abort(void) {
    struct fence_probe p;
    memset(&p, 0, sizeof(p));
    cpu_set_t allowed;
    p.fencer_cpu = sched_getcpu();
    p.spinner_cpu = -1;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE && p.spinner_cpu < 0; cpu++) {
            if (cpu != p.fencer_cpu && CPU_ISSET(cpu, &allowed)) {
                p.spinner_cpu = cpu;
            }
        }
    }
    if (p.spinner_cpu < 0) {
        return PROBE_SKIPPED;
    }
    pthread_t spinner;
    int rc = pthread_create(&spinner, NULL, fence_probe_spinner, &p);
    if (rc != 0) {
        return -rc;
    }
    cpu_set_t saved;
    int restore = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
    pin(p.fencer_cpu);
    struct timespec pause = {0, 100 * 1000};
    int proofs = 0, observed = 0;
    for (int r = 1; r <= FENCE_MAX_ROUNDS && proofs < FENCE_PROOFS && !observed && !p.failed; r++) {
        p.round = r;
        while (p.ready < r && !p.failed) {
        }
        nanosleep(&pause, NULL);        /* the spinner is inside the section by now, unless preempted */
        cpuslab_rseq_fence_cpu(p.spinner_cpu);
        __atomic_fetch_add(&p.counter, 1, __ATOMIC_SEQ_CST);
        while (p.finished < r && !p.failed) {
        }
        proofs += p.result == PROBE_ABORTED;
        observed = p.result == PROBE_OBSERVED;
    }
    p.round = -1;
    pthread_join(spinner, NULL);
    if (restore) {
        pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    }
    if (p.failed) {
        return PROBE_INCONCLUSIVE;
    }
    return observed ? PROBE_OBSERVED : proofs > 0 ? PROBE_ABORTED : PROBE_INCONCLUSIVE;
}

/* ---- introspection for the tests ------------------------------------------------------------------ */

#ifdef CPUSLAB_SELF_CHECK
/* Spin loops before every commit (see SELF_CHECK in rseq_x86_64.S); the torture tests raise it. */
__attribute__((visibility("hidden"))) volatile int cpuslab_rseq_inject_loops;

void cpuslab_rseq_set_inject_loops(int loops) {
    cpuslab_rseq_inject_loops = loops;
}

/* Logic tests of the sections under an emulator that has no rseq (qemu-user): makes this thread look
 * registered on slab `index` without any kernel protection. Single-threaded tests only. */
void cpuslab_rseq_test_fake_registration(int index) {
    cpuslab_rseq_offset = (char *) &own.area - thread_pointer();
    own.area.cpu_id_start = own.area.cpu_id = own.area.mm_cid = (uint32_t) index;
}

/* The calling thread's overlay slab word (own registration only); cpuslab_rseq_test_restore_slab_word
 * in the assembly puts an old one back. */
long cpuslab_rseq_test_slab_word(void) {
    long word;
    memcpy(&word, (char *) &own + offsetof(struct own_rseq_block, slab_word_low), sizeof word);
    return word;
}

/* The calling thread's struct rseq, as another ABI-compliant rseq user in the process would read it. */
const void *cpuslab_rseq_test_area(void) {
    return (const void *) area();
}
#endif

/* The linker defines these for the section of every critical-section descriptor. */
extern const char __start___rseq_cs[] __attribute__((weak));
extern const char __stop___rseq_cs[] __attribute__((weak));

/* Address of the first rseq_cs descriptor; *count receives how many 32-byte descriptors there are. */
const void *cpuslab_rseq_descriptors(int *count) {
    *count = (int) ((__stop___rseq_cs - __start___rseq_cs) / 32);
    return __start___rseq_cs;
}

/* The signature the kernel expects before each abort handler. */
unsigned int cpuslab_rseq_signature(void) {
    return RSEQ_SIG;
}

/* Every constant the Java side shares with this library, by name. Each side writes its values once (here
 * cpuslab_rseq.h and the status bits above; in Java the descriptor's StructLayout and core's layout
 * classes), and RseqLibrary refuses a library whose values differ from the jar's, naming the constant:
 * a library built from another version of this header never runs a section on a layout it does not
 * share. */
#define CONSTANT(name) { #name, name }
static const struct cpuslab_constant constants[] = {
    CONSTANT(RSEQ_CPU_ID_OFFSET), CONSTANT(RSEQ_MM_CID_OFFSET),
    CONSTANT(SLAB_SHIFT), CONSTANT(SLAB_STOP_OFFSET), CONSTANT(SLAB_HINT_OFFSET), CONSTANT(SLAB_HEADER_OFFSET),
    CONSTANT(DESC_BASE), CONSTANT(DESC_NSLABS), CONSTANT(DESC_INDEX_FIELD), CONSTANT(DESC_BEGIN),
    CONSTANT(DESC_MAX_CAPACITY), CONSTANT(DESC_SLAB_BYTES), CONSTANT(DESC_PAGE_MAP),
    CONSTANT(DESC_SIZE),
    CONSTANT(PAGE_SHIFT), CONSTANT(PAGE_MAP_LEAF_BITS), CONSTANT(PAGE_MAP_HINT_KEY), CONSTANT(PAGE_MAP_HINT_LEAF),
    CONSTANT(PAGE_MAP_ROOT), CONSTANT(PAGE_MAP_ROOT_ENTRIES), CONSTANT(PAGE_MAP_ENTRY_INDEX_SHIFT),
    CONSTANT(CLASS_COUNT), CONSTANT(MAX_SMALL_SIZE),
    CONSTANT(STATUS_OK), CONSTANT(STATUS_GLIBC_OWNS), CONSTANT(STATUS_MM_CID), CONSTANT(STATUS_NO_RSEQ),
    CONSTANT(STATUS_NO_MEMBARRIER), CONSTANT(STATUS_REGISTER_FAILED), CONSTANT(STATUS_BAD_TLS),
    CONSTANT(PROBE_ABORTED), CONSTANT(PROBE_OBSERVED), CONSTANT(PROBE_INCONCLUSIVE), CONSTANT(PROBE_SKIPPED),
};

/* The shared constants; *count receives how many. */
const struct cpuslab_constant *cpuslab_rseq_constants(int *count) {
    *count = (int) (sizeof constants / sizeof constants[0]);
    return constants;
}
