/*
 * Test support for the rseq tests (not shipped): a signal storm aimed at chosen threads, and a foreign
 * rseq registration.
 * Worker threads enlist themselves; a storm thread sends each of them SIGALRM every `interval_us`
 * with tgkill, so critical sections are interrupted at every possible instruction. SIGALRM is not
 * used by HotSpot; the handler only counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../main/c/cpuslab_rseq.h"

#define MAX_TARGETS 4096

static pid_t targets[MAX_TARGETS];
static int target_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t storm;
static volatile int running;
static long sent;
static long handled;
static long interval_ns;

static void on_signal(int sig) {
    (void) sig;
    __atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
}

/* Adds the calling thread to the storm's targets. */
void cpuslab_test_storm_enlist(void) {
    pthread_mutex_lock(&lock);
    if (target_count < MAX_TARGETS) {
        targets[target_count++] = (pid_t) syscall(SYS_gettid);
    }
    pthread_mutex_unlock(&lock);
}

static void *storm_loop(void *arg) {
    (void) arg;
    struct timespec pause = {0, interval_ns};
    pid_t pid = getpid();
    while (running) {
        pthread_mutex_lock(&lock);
        for (int i = 0; i < target_count; i++) {
            if (syscall(SYS_tgkill, pid, targets[i], SIGALRM) == 0) {
                sent++;
            }
        }
        pthread_mutex_unlock(&lock);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

/* Installs the handler and starts the storm; 0 or an errno. */
int cpuslab_test_storm_start(int interval_us) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGALRM, &action, NULL) != 0) {
        return -1;
    }
    interval_ns = (long) interval_us * 1000;
    sent = handled = 0;
    running = 1;
    return pthread_create(&storm, NULL, storm_loop, NULL);
}

/* Stops the storm, forgets the targets (they may exit), returns how many signals were handled. */
long cpuslab_test_storm_stop(void) {
    running = 0;
    pthread_join(storm, NULL);
    pthread_mutex_lock(&lock);
    target_count = 0;
    pthread_mutex_unlock(&lock);
    return __atomic_load_n(&handled, __ATOMIC_RELAXED);
}

/* Registers a fresh rseq area of our own for the calling thread (glibc's registration must be off), as
 * another library would: cpuslab's own registration of this thread must then fail and be survived.
 * The area is never freed: the kernel writes to it until the thread exits. 0 or an errno. */
int cpuslab_test_register_foreign_area(void) {
    uint32_t *area = aligned_alloc(32, 32);
    memset(area, 0, 32);
    area[1] = (uint32_t) -1;
    return syscall(SYS_rseq, area, 32, 0, RSEQ_SIG) == 0 ? 0 : errno;
}
