/*
 * cpuslab_overlay_probe: proves, in a process of its own, that this kernel still gives TCMalloc's
 * overlay trick what it relies on. Overlay mode caches a tagged slab pointer whose upper half overlaps
 * rseq->cpu_id_start and needs the kernel to rewrite cpu_id_start after every context switch, before
 * every signal handler, and in every membarrier-RSEQ IPI (Linux <= 6.18 and the legacy mode of
 * 7.0.10+/7.1 do; 6.19 and unfixed 7.0 do not). It must run with GLIBC_TUNABLES=glibc.pthread.rseq=0:
 * it writes a read-only rseq field of its own 32-byte registration, which a kernel in rseq debug mode
 * punishes with SIGSEGV, so it never runs inside the JVM.
 *
 * Prints one "check=result" line per check (ok, fail, or skipped with a reason) and exits 0 only if
 * every check passed. The Java side (OverlayProbe) also treats death by a signal as a failure.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cpuslab_rseq.h"

#define MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (1 << 7)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ (1 << 8)
#define MEMBARRIER_CMD_FLAG_CPU (1 << 0)
/* What overlay mode writes: the tag bit of the cached slab word is bit 31 of cpu_id_start. */
#define SENTINEL 0x80005A5Au

/* The rseq area this thread registered through the library (own registration: glibc's is off). */
extern long cpuslab_rseq_offset;

static volatile uint32_t *cpu_id_start(void) {
    char *tp;
#if defined(__x86_64__)
    __asm__ ("mov %%fs:0, %0" : "=r"(tp));
#else
    __asm__ ("mrs %0, tpidr_el0" : "=r"(tp));
#endif
    return (volatile uint32_t *) (tp + cpuslab_rseq_offset);
}

static int rewritten(uint32_t value) {
    return value < 0x80000000u;
}

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* (a) A context switch (sleeping gives the CPU away) must rewrite cpu_id_start. */
static const char *context_switch(void) {
    struct timespec ms = {0, 1000 * 1000};
    for (int i = 0; i < 20; i++) {
        *cpu_id_start() = SENTINEL;
        nanosleep(&ms, NULL);
        if (!rewritten(*cpu_id_start())) {
            return "fail";
        }
    }
    return "ok";
}

/* (b) Signal delivery must rewrite it before the handler runs. */
static volatile uint32_t seen_in_handler;

static void on_signal(int sig) {
    (void) sig;
    seen_in_handler = *cpu_id_start();
}

static const char *signal_delivery(void) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGUSR1, &action, NULL) != 0) {
        return "skipped: sigaction failed";
    }
    for (int i = 0; i < 20; i++) {
        seen_in_handler = SENTINEL;
        *cpu_id_start() = SENTINEL;
        raise(SIGUSR1);
        if (!rewritten(seen_in_handler) || !rewritten(*cpu_id_start())) {
            return "fail";
        }
    }
    return "ok";
}

/* (c) A membarrier-RSEQ IPI from another CPU must rewrite the running target's cpu_id_start, both the
 * one aimed at its CPU (drains) and the one for every CPU (close, mm_cid drains). A round in which the
 * target was switched out proves nothing (the switch rewrites too) and is not counted. */
struct spinner {
    int cpu;
    volatile int ready;
    volatile int result; /* 0 running, 1 rewritten, 2 timed out, 3 could not start, 4 was switched out */
};

static long switches(void) {
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw + usage.ru_nivcsw;
}

static void *spin_until_rewritten(void *arg) {
    struct spinner *s = arg;
    if (pin(s->cpu) != 0 || cpuslab_rseq_register() != 0) {
        s->result = 3;
        return NULL;
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long before = switches();
    *cpu_id_start() = SENTINEL;
    s->ready = 1;
    while (!rewritten(*cpu_id_start())) {
        clock_gettime(CLOCK_MONOTONIC, &now); /* vDSO: no system call, no context switch */
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) > 500 * 1000 * 1000L) {
            s->result = 2;
            return NULL;
        }
    }
    s->result = switches() == before ? 1 : 4;
    return NULL;
}

static const char *membarrier_ipi(int fencer_cpu, int target_cpu, int all_cpus) {
    if (target_cpu < 0) {
        return "skipped: needs two CPUs this process may run on";
    }
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) != 0) {
        return "skipped: membarrier RSEQ unavailable";
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        struct spinner s = {.cpu = target_cpu, .ready = 0, .result = 0};
        pthread_t thread;
        if (pin(fencer_cpu) != 0 || pthread_create(&thread, NULL, spin_until_rewritten, &s) != 0) {
            return "skipped: could not start the target thread";
        }
        while (!s.ready && s.result == 0) {
            sched_yield();
        }
        long rc = all_cpus
                ? syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0)
                : syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU, target_cpu);
        pthread_join(thread, NULL);
        if (rc != 0) {
            return "fail (membarrier returned an error)";
        }
        if (s.result == 1) {
            return "ok";
        }
        if (s.result == 3) {
            return "skipped: could not pin the target thread";
        }
        if (s.result == 2) {
            return "fail";
        }
    }
    return "skipped: the target was switched out in every round";
}

/* A JVM started under taskset passes a one-CPU mask on, and the IPI check needs a second CPU: widen the
 * mask to every configured CPU (a cpuset cgroup still has the last word). */
static void widen_affinity(void) {
    cpu_set_t all;
    CPU_ZERO(&all);
    long configured = sysconf(_SC_NPROCESSORS_CONF);
    for (long cpu = 0; cpu < configured && cpu < CPU_SETSIZE; cpu++) {
        CPU_SET(cpu, &all);
    }
    sched_setaffinity(0, sizeof(all), &all);
}

int main(void) {
    widen_affinity();
    int status = cpuslab_rseq_init();
    if ((status & 1) == 0 || (status & 2) != 0) {
        printf("registration=fail (status 0x%x: %s)\n", status,
               (status & 2) ? "glibc owns rseq; run with GLIBC_TUNABLES=glibc.pthread.rseq=0" : "no own registration");
        return 1;
    }
    printf("registration=ok (own, %u bytes)\n", cpuslab_rseq_own_length());
    int here = sched_getcpu();
    cpu_set_t allowed;
    int other = -1;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE && other < 0; cpu++) {
            if (cpu != here && CPU_ISSET(cpu, &allowed)) {
                other = cpu;
            }
        }
    }
    pin(here); /* everything below runs on one CPU, but for the IPI target */
    const char *results[5];
    results[0] = context_switch();
    results[1] = signal_delivery();
    results[2] = membarrier_ipi(here, other, 0);
    results[3] = membarrier_ipi(here, other, 1);
    int abort_probe = cpuslab_rseq_probe_abort();
    results[4] = abort_probe == PROBE_ABORTED ? "ok" : abort_probe == PROBE_OBSERVED ? "fail" : "skipped: inconclusive";
    const char *names[5] = {"context_switch", "signal", "membarrier_ipi", "membarrier_ipi_all", "abort"};
    int all_ok = 1;
    for (int i = 0; i < 5; i++) {
        printf("%s=%s\n", names[i], results[i]);
        all_ok &= strcmp(results[i], "ok") == 0;
    }
    fflush(stdout);
    return all_ok ? 0 : 1;
}
