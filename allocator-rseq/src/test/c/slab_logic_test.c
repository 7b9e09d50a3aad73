/*
 * Single-threaded logic test of the critical sections, linked with the self-checking build. It fakes
 * an rseq registration (cpuslab_rseq_test_fake_registration), so it also runs under an emulator
 * without rseq (qemu-aarch64 for the aarch64 sections). It checks what each section does and refuses;
 * that sections abort is proven on real kernels by the abort probe and the Java torture tests.
 * Prints "SLAB LOGIC OK" and exits 0, or names the first failed check and exits 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../main/c/cpuslab_rseq.h"

long cpuslab_rseq_pop(void *d, int sc);
int cpuslab_rseq_push(void *d, int sc, long item);
int cpuslab_rseq_push_batch(void *d, int sc, const long *items, int n, int expected);
int cpuslab_rseq_pop_batch(void *d, int sc, long *items, int max, int expected);
int cpuslab_rseq_grow(void *d, int sc, int by, int expected);
void cpuslab_rseq_test_fake_registration(int index);
long cpuslab_rseq_overlay_pop(void *d, int sc);
int cpuslab_rseq_overlay_push(void *d, int sc, long item);
int cpuslab_rseq_overlay_cache(void *d);
long cpuslab_rseq_test_slab_word(void);
int cpuslab_rseq_test_restore_slab_word(void *d, long word);

struct desc {
    uint64_t base;
    uint32_t nslabs;
    uint32_t index_field;
    uint16_t begin[48];
    uint16_t max_capacity[48];
    uint64_t slab_bytes;
} __attribute__((packed));

static int failures;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static uint32_t header(struct desc *d, int slab, int sc) {
    return *(uint32_t *) (d->base + ((uint64_t) slab << SLAB_SHIFT) + SLAB_HEADER_OFFSET + 4 * sc);
}

static uint32_t *stop_word(struct desc *d, int slab) {
    return (uint32_t *) (d->base + ((uint64_t) slab << SLAB_SHIFT) + SLAB_STOP_OFFSET);
}

int main(void) {
    _Static_assert(sizeof(struct desc) == DESC_SIZE, "descriptor layout");
    struct desc d;
    memset(&d, 0, sizeof d);
    d.base = (uint64_t) mmap(NULL, 2UL << SLAB_SHIFT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    d.nslabs = 2;
    d.slab_bytes = 2UL << SLAB_SHIFT;
    d.index_field = RSEQ_CPU_ID_OFFSET;
    for (int sc = 1; sc < 48; sc++) {
        d.begin[sc] = 25 + (sc - 1) * 100;
        d.max_capacity[sc] = 100;
    }
    const int sc = 3;
    cpuslab_rseq_test_fake_registration(0);

    CHECK(cpuslab_rseq_pop(&d, sc) == 0);                     /* not populated: empty */
    CHECK(cpuslab_rseq_push(&d, sc, 0x10) == 0);              /* not populated: full */
    CHECK(cpuslab_rseq_grow(&d, sc, 5, 1) == 0);              /* names slab 1, runs on 0 */
    CHECK(header(&d, 0, sc) == 0 && header(&d, 1, sc) == 0);
    CHECK(cpuslab_rseq_grow(&d, sc, 5, 0) == 5);
    CHECK(header(&d, 0, sc) == ((uint32_t) (d.begin[sc] + 5) << 16 | d.begin[sc]));
    for (long i = 1; i <= 5; i++) {
        CHECK(cpuslab_rseq_push(&d, sc, i * 16) == 1);
    }
    CHECK(cpuslab_rseq_push(&d, sc, 0x60) == 0);              /* at capacity */
    CHECK(cpuslab_rseq_pop(&d, sc) == 5 * 16);                /* LIFO */
    CHECK(cpuslab_rseq_pop(&d, sc) == 4 * 16);

    long items[8] = {100, 200, 300, 400, 500, 600, 700, 800}, out[8] = {0};
    CHECK(cpuslab_rseq_push_batch(&d, sc, items, 8, 1) == 0); /* wrong slab */
    CHECK(cpuslab_rseq_push_batch(&d, sc, items, 8, 0) == 2); /* 3 held, capacity 5 */
    CHECK(cpuslab_rseq_pop_batch(&d, sc, out, 8, 1) == 0);
    CHECK(cpuslab_rseq_pop_batch(&d, sc, out, 4, 0) == 4);
    CHECK(out[0] == 200 && out[1] == 100 && out[2] == 3 * 16 && out[3] == 2 * 16);
    CHECK(cpuslab_rseq_pop(&d, sc) == 16);
    CHECK(cpuslab_rseq_pop(&d, sc) == 0);
    CHECK(cpuslab_rseq_pop_batch(&d, sc, out, 4, 0) == 0);

    CHECK(cpuslab_rseq_grow(&d, sc, 500, 0) == 95);           /* up to max capacity 100 */
    CHECK(cpuslab_rseq_grow(&d, sc, 1, 0) == 0);

    *stop_word(&d, 0) = 1;                                     /* core works on slab 0 */
    CHECK(cpuslab_rseq_push(&d, sc, 0x70) == 0);
    CHECK(cpuslab_rseq_grow(&d, sc + 1, 1, 0) == 0);
    CHECK(cpuslab_rseq_push_batch(&d, sc, items, 1, 0) == 0);
    *stop_word(&d, 0) = 0;
    CHECK(cpuslab_rseq_push(&d, sc, 0x70) == 1);
    CHECK(cpuslab_rseq_pop(&d, sc) == 0x70);

    cpuslab_rseq_test_fake_registration(1);                   /* now "on" slab 1 */
    CHECK(cpuslab_rseq_grow(&d, sc, 2, 1) == 2);
    CHECK(cpuslab_rseq_push(&d, sc, 0x80) == 1);
    CHECK((header(&d, 1, sc) & 0xffff) == (uint32_t) d.begin[sc] + 1);
    CHECK(cpuslab_rseq_pop(&d, sc) == 0x80);

    d.index_field = RSEQ_MM_CID_OFFSET;                        /* mm_cid indexing reads another field */
    cpuslab_rseq_test_fake_registration(0);
    CHECK(cpuslab_rseq_grow(&d, sc + 1, 1, 0) == 1);

    cpuslab_rseq_test_fake_registration(2);                   /* index beyond the slabs */
    CHECK(cpuslab_rseq_push(&d, sc, 0x90) == 0);
    cpuslab_rseq_test_fake_registration(-1);                  /* unregistered thread */
    CHECK(cpuslab_rseq_pop(&d, sc) == 0);
    CHECK(cpuslab_rseq_grow(&d, sc, 1, 0) == 0);
    /* Overlay mode. fake_registration writes cpu_id_start, as the kernel's rewrite would: untagged. */
    d.index_field = RSEQ_CPU_ID_OFFSET;
    cpuslab_rseq_test_fake_registration(1);
    CHECK(cpuslab_rseq_overlay_pop(&d, sc) == 0);              /* nothing cached yet */
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xa0) == 0);
    CHECK(cpuslab_rseq_overlay_cache(&d) == 1);
    CHECK((unsigned long) cpuslab_rseq_test_slab_word() == ((d.base + (1UL << SLAB_SHIFT)) | 1UL << 63));
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xa0) == 1);
    CHECK((header(&d, 1, sc) & 0xffff) == (uint32_t) d.begin[sc] + 1);
    CHECK(cpuslab_rseq_pop(&d, sc) == 0xa0);                   /* the same slab, seen by compliant pop */
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xb0) == 1);
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xc0) == 1);
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xd0) == 0);       /* capacity 2 */
    *stop_word(&d, 1) = 1;
    CHECK(cpuslab_rseq_overlay_pop(&d, sc) == 0xc0);           /* no stop-word check: the fence's rewrite excludes */
    CHECK(cpuslab_rseq_overlay_cache(&d) == -1);               /* but re-caching refuses a stopped slab */
    CHECK(cpuslab_rseq_test_slab_word() == 0);
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xb0) == 0);
    *stop_word(&d, 1) = 0;
    CHECK(cpuslab_rseq_overlay_cache(&d) == 1);
    cpuslab_rseq_test_fake_registration(0);                   /* "migrated": the rewrite clears the tag */
    CHECK(cpuslab_rseq_overlay_push(&d, sc, 0xb0) == 0);
    CHECK(cpuslab_rseq_overlay_cache(&d) == 0);
    CHECK(cpuslab_rseq_overlay_push(&d, sc + 1, 0xb0) == 1);   /* slab 0, class 4 has capacity 1 */
    CHECK(cpuslab_rseq_overlay_pop(&d, sc + 1) == 0xb0);
    CHECK(cpuslab_rseq_overlay_pop(&d, sc + 1) == 0);          /* empty */
    struct desc other = d;                                     /* another allocator: its slabs elsewhere */
    other.base = d.base + (2UL << SLAB_SHIFT);
    CHECK(cpuslab_rseq_overlay_pop(&other, sc + 1) == 0);       /* a word cached for d is no use to other */
    CHECK(cpuslab_rseq_overlay_push(&other, sc + 1, 0xe0) == 0);
    other.base = d.base - (2UL << SLAB_SHIFT);                 /* just below */
    CHECK(cpuslab_rseq_overlay_push(&other, sc + 1, 0xe0) == 0);
    CHECK(cpuslab_rseq_overlay_push(&d, sc + 1, 0xe0) == 1);   /* while d itself still hits */
    CHECK(cpuslab_rseq_overlay_pop(&d, sc + 1) == 0xe0);
    other = d;
    other.slab_bytes = 0;                                      /* closed */
    CHECK(cpuslab_rseq_overlay_push(&other, sc + 1, 0xe0) == 0);
    long word = cpuslab_rseq_test_slab_word();                 /* the 6.19 simulation hook: */
    cpuslab_rseq_test_fake_registration(1);
    CHECK(cpuslab_rseq_test_restore_slab_word(&d, word) == 0); /* not on that word's CPU: refused */
    cpuslab_rseq_test_fake_registration(0);
    CHECK(cpuslab_rseq_test_restore_slab_word(&d, word) == 1);
    CHECK(cpuslab_rseq_test_slab_word() == word);
    d.nslabs = 1;
    cpuslab_rseq_test_fake_registration(1);
    CHECK(cpuslab_rseq_overlay_cache(&d) == -1);               /* index beyond the slabs */
    d.nslabs = 2;
    cpuslab_rseq_test_fake_registration(-1);                  /* unregistered thread */
    CHECK(cpuslab_rseq_overlay_cache(&d) == -1);

    cpuslab_rseq_test_fake_registration(0);
    d.nslabs = 0;                                              /* allocator closed */
    CHECK(cpuslab_rseq_push(&d, sc, 0x90) == 0);
    CHECK(cpuslab_rseq_pop(&d, sc) == 0);
    CHECK(cpuslab_rseq_overlay_cache(&d) == -1);

    if (failures == 0) {
        printf("SLAB LOGIC OK\n");
    }
    return failures == 0 ? 0 : 1;
}
