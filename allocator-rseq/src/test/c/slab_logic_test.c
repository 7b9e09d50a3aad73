/*
 * Single-threaded logic test of the critical sections, linked with the self-checking build. It fakes
 * an rseq registration (cpuslab_rseq_test_fake_registration), so it also runs under an emulator
 * without rseq (qemu-aarch64 for the aarch64 sections). It checks what each section does and refuses;
 * that sections abort is proven on real kernels by the abort probe and the Java torture tests.
 * The one-call fast path (malloc, free and their bulk forms) runs on a descriptor of its own with a
 * synthetic class table and a hand-made page map, so every class lookup and every page-map refusal is
 * checked against an independent computation here.
 * Prints "SLAB LOGIC OK" and exits 0, or names the first failed check and exits 1.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../main/c/cpuslab_rseq.h"

struct desc {
    uint64_t base;
    uint32_t nslabs;
    uint32_t index_field;
    uint16_t begin[48];
    uint16_t max_capacity[48];
    uint64_t slab_bytes;
    uint64_t page_map;
} __attribute__((packed));

static int failures;
#define CHECK(cond) do { if (!(cond)) { printf("FAILED line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static uint32_t header(struct desc *d, int slab, int sc) {
    return *(uint32_t *) (d->base + ((uint64_t) slab << SLAB_SHIFT) + SLAB_HEADER_OFFSET + 4 * sc);
}

static uint32_t *stop_word(struct desc *d, int slab) {
    return (uint32_t *) (d->base + ((uint64_t) slab << SLAB_SHIFT) + SLAB_STOP_OFFSET);
}

static uint32_t *hint_word(struct desc *d, int slab) {
    return (uint32_t *) (d->base + ((uint64_t) slab << SLAB_SHIFT) + SLAB_HINT_OFFSET);
}

static void descriptor(struct desc *d) {
    memset(d, 0, sizeof *d);
    d->base = (uint64_t) mmap(NULL, 2UL << SLAB_SHIFT, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    d->nslabs = 2;
    d->slab_bytes = 2UL << SLAB_SHIFT;
    d->index_field = RSEQ_CPU_ID_OFFSET;
    for (int sc = 1; sc < 48; sc++) {
        d->begin[sc] = 25 + (sc - 1) * 100;
        d->max_capacity[sc] = 100;
    }
}

/* The synthetic size classes: class c holds 16 * c bytes in spans of two pages, and lookup index i maps
 * to class 1 + i % 47, so a wrong lookup index shows up as a wrong class. */
#define SPAN_PAGES 2
static uint8_t class_index[CLASS_INDEX_ENTRIES];
static int32_t class_size[CLASS_COUNT], class_objects[CLASS_COUNT];

/* The lookup index of a request size, written out independently of the assembly. */
static long lookup_index(long size) {
    return size <= SMALL_LOOKUP_LIMIT ? (size + 7) >> 3 : (size + LARGE_INDEX_OFFSET) >> 7;
}

static void install_classes(void) {
    for (int i = 0; i < CLASS_INDEX_ENTRIES; i++) {
        class_index[i] = (uint8_t) (1 + i % (CLASS_COUNT - 1));
    }
    for (int sc = 1; sc < CLASS_COUNT; sc++) {
        class_size[sc] = 16 * sc;
        class_objects[sc] = (SPAN_PAGES << PAGE_SHIFT) / class_size[sc];
    }
    CHECK(cpuslab_rseq_set_classes(class_index, CLASS_INDEX_ENTRIES - 1, class_size, class_objects, CLASS_COUNT) == -1);
    class_index[7] = 0;
    CHECK(cpuslab_rseq_set_classes(class_index, CLASS_INDEX_ENTRIES, class_size, class_objects, CLASS_COUNT) == -1);
    class_index[7] = 8;
    CHECK(cpuslab_rseq_set_classes(class_index, CLASS_INDEX_ENTRIES, class_size, class_objects, CLASS_COUNT) == 0);
}

/* Points the page map entries of a span of `sc` at `start` (SPAN_PAGES pages). */
static void map_span(uint16_t *leaf, long start, int sc) {
    for (int i = 0; i < SPAN_PAGES; i++) {
        leaf[((start >> PAGE_SHIFT) + i) & ((1 << PAGE_MAP_LEAF_BITS) - 1)] = (uint16_t) (sc | i << PAGE_MAP_ENTRY_INDEX_SHIFT);
    }
}

/* Frees through the page map at `map` (spans of class 3 at a, class 5 at b), and the bulk calls; leaves
 * both classes empty, so it can run again with the map found another way. */
static void page_map_frees(struct desc *d, uint64_t *map, long a, long b) {
    long out[16];
    CHECK(cpuslab_rseq_free_cpu_id(d, a) == 0);                       /* no map in the descriptor (closed) */
    d->page_map = (uint64_t) map;
    CHECK(cpuslab_rseq_free_cpu_id(d, a) == 1);
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 48 * 5) == 1);
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 48 * 171) == 1);           /* on the span's second page */
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 47) == 0);                 /* interior */
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 48 * 171 + 16) == 0);      /* interior, second page */
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 48 * 341) == 0);           /* the tail: no object starts there */
    CHECK(cpuslab_rseq_free_cpu_id(d, a + (2L << PAGE_SHIFT)) == 0); /* a page no span holds */
    CHECK(cpuslab_rseq_free_cpu_id(d, a + (1L << (PAGE_SHIFT + PAGE_MAP_LEAF_BITS))) == 0); /* no leaf */
    CHECK(cpuslab_rseq_free_cpu_id(d, 0) == 0);
    CHECK(cpuslab_rseq_free_cpu_id(d, 1L << 48) == 0);              /* beyond the map */
    CHECK(cpuslab_rseq_free_cpu_id(d, -16) == 0);
    CHECK((header(d, 0, 3) & 0xffff) == (uint32_t) d->begin[3] + 3);
    CHECK(*hint_word(d, 0) == 3);                              /* the class of the last frees */
    CHECK(cpuslab_rseq_free_cpu_id(d, b) == 1);                       /* another class than the hint: */
    CHECK(*hint_word(d, 0) == 5 && cpuslab_rseq_pop(d, 5) == b); /* filed by the map, hint rewritten */
    *hint_word(d, 0) = 3;
    CHECK(cpuslab_rseq_malloc_cpu_id(d, 16) == a + 48 * 171);        /* LIFO, in class 3 */
    CHECK(cpuslab_rseq_malloc_cpu_id(d, 9) == a + 48 * 5);
    CHECK(cpuslab_rseq_pop(d, 3) == a);
    for (int i = 0; i < 8; i++) {
        CHECK(cpuslab_rseq_free_cpu_id(d, a + 48L * i) == 1);
    }
    CHECK(cpuslab_rseq_free_cpu_id(d, a + 48 * 8) == 0);             /* class 3 full (capacity 8) */
    *stop_word(d, 0) = 1;
    CHECK(cpuslab_rseq_malloc_cpu_id(d, 16) == 0);
    CHECK(cpuslab_rseq_malloc_bulk(d, 16, out, 4) == 0);
    CHECK(cpuslab_rseq_pop_batch(d, 3, out, 4, 0) == 0);
    *stop_word(d, 0) = 0;
    CHECK(cpuslab_rseq_malloc_bulk(d, 10, out, 16) == 8);     /* all eight, most recent first */
    for (int i = 0; i < 8; i++) {
        CHECK(out[i] == a + 48L * (7 - i));
    }
    CHECK(cpuslab_rseq_malloc_bulk(d, 16, out, 16) == 0);     /* empty */

    /* Bulk free: runs of one class per section, up to the first block the slow path must take. */
    long blocks[] = {a, a + 48, b, b + 80, a + 96, a + 1, a + 144};
    CHECK(cpuslab_rseq_free_bulk(d, blocks, 7) == 5);         /* stops at the interior a + 1 */
    CHECK(cpuslab_rseq_free_bulk(d, blocks, 0) == 0);
    CHECK(cpuslab_rseq_pop(d, 3) == a + 96);
    CHECK(cpuslab_rseq_pop(d, 5) == b + 80);
    CHECK(cpuslab_rseq_pop(d, 5) == b);
    CHECK(cpuslab_rseq_pop(d, 3) == a + 48);
    CHECK(cpuslab_rseq_pop(d, 3) == a);
    CHECK(cpuslab_rseq_pop(d, 3) == 0);
    long many[10];
    for (int i = 0; i < 10; i++) {
        many[i] = a + 48L * i;
    }
    CHECK(cpuslab_rseq_free_bulk(d, many, 10) == 8);          /* class 3 holds 8 */
    CHECK(cpuslab_rseq_free_bulk(d, many + 8, 2) == 0);       /* full */
    CHECK(cpuslab_rseq_malloc_bulk(d, 16, out, 3) == 3 && out[0] == many[7] && out[2] == many[5]);
    CHECK(cpuslab_rseq_free_bulk(d, many + 8, 2) == 2);
    cpuslab_rseq_test_fake_registration(-1);                  /* unregistered thread */
    CHECK(cpuslab_rseq_malloc_cpu_id(d, 16) == 0);
    CHECK(cpuslab_rseq_free_cpu_id(d, a) == 0);
    CHECK(cpuslab_rseq_free_bulk(d, blocks, 1) == 0);
    CHECK(cpuslab_rseq_malloc_bulk(d, 16, out, 1) == 0);
    cpuslab_rseq_test_fake_registration(0);
    CHECK(cpuslab_rseq_malloc_bulk(d, 16, out, 16) == 7);     /* empty class 3 again */
}

/* malloc, free and the bulk calls, in both modes, on a fresh descriptor of their own. */
static void fast_path(void) {
    struct desc d;
    descriptor(&d);
    install_classes();
    cpuslab_rseq_test_fake_registration(0);

    /* Class lookup: one token per class on slab 0; every size must pop its class's token. */
    for (int sc = 1; sc < CLASS_COUNT; sc++) {
        CHECK(cpuslab_rseq_grow(&d, sc, 8, 0) == 8);
        CHECK(cpuslab_rseq_push(&d, sc, (long) sc << 4) == 1);
    }
    long wrong = 0;
    for (long size = 0; size <= MAX_SMALL_SIZE; size++) {
        int expected = class_index[lookup_index(size)];
        long token = cpuslab_rseq_malloc_cpu_id(&d, size);
        if (token != (long) expected << 4 && wrong++ == 0) {
            printf("FAILED: malloc(%ld) popped 0x%lx, class %d expected\n", size, token, expected);
            failures++;
        }
        cpuslab_rseq_push(&d, expected, token);
    }
    CHECK(cpuslab_rseq_malloc_cpu_id(&d, MAX_SMALL_SIZE + 1) == 0);   /* large: the page heap's */
    CHECK(cpuslab_rseq_malloc_cpu_id(&d, -1) == 0);                   /* negative: Java throws */
    long out[16];
    CHECK(cpuslab_rseq_malloc_bulk(&d, MAX_SMALL_SIZE + 1, out, 4) == 0);
    for (int sc = 1; sc < CLASS_COUNT; sc++) {
        CHECK(cpuslab_rseq_pop(&d, sc) == (long) sc << 4);     /* every class back to empty */
    }

    /* A page map with two spans: class 3 (48 B, 341 objects, a 16-byte tail) and class 5 (80 B). Sizes
     * 9 to 16 have lookup index 2, which the synthetic table maps to class 3. */
    uint64_t *map = calloc(PAGE_MAP_ROOT / 8 + PAGE_MAP_ROOT_ENTRIES, sizeof *map);
    uint64_t *root = map + PAGE_MAP_ROOT / 8;
    uint16_t *leaf = calloc(1 << PAGE_MAP_LEAF_BITS, sizeof *leaf);
    const long a = 0x7f1234500000L, b = a + (4L << PAGE_SHIFT);
    map[PAGE_MAP_HINT_KEY / 8] = ~0UL;                         /* no hint: the root's way */
    root[a >> (PAGE_SHIFT + PAGE_MAP_LEAF_BITS)] = (uint64_t) leaf;
    map_span(leaf, a, 3);
    map_span(leaf, b, 5);
    page_map_frees(&d, map, a, b);                            /* the leaf found through the root */
    d.page_map = 0;
    map[PAGE_MAP_HINT_KEY / 8] = (uint64_t) a >> (PAGE_SHIFT + PAGE_MAP_LEAF_BITS);
    map[PAGE_MAP_HINT_LEAF / 8] = (uint64_t) leaf;
    root[a >> (PAGE_SHIFT + PAGE_MAP_LEAF_BITS)] = 0;
    page_map_frees(&d, map, a, b);                            /* the leaf found through the hint alone */
    CHECK(cpuslab_rseq_free_cpu_id(&d, a + (1L << (PAGE_SHIFT + PAGE_MAP_LEAF_BITS))) == 0); /* another leaf: the root has none */

    /* Overlay mode: the same operations on the cached slab word. */
    cpuslab_rseq_test_fake_registration(1);
    CHECK(cpuslab_rseq_free_overlay(&d, a) == 0);                      /* nothing cached */
    CHECK(cpuslab_rseq_malloc_overlay(&d, 16) == 0);
    CHECK(cpuslab_rseq_overlay_cache(&d) == 1);
    CHECK(cpuslab_rseq_grow(&d, 3, 2, 1) == 2);
    CHECK(cpuslab_rseq_free_overlay(&d, a + 48) == 1);
    CHECK(cpuslab_rseq_free_overlay(&d, a + 49) == 0);                 /* interior: the page map's verdict again */
    CHECK((header(&d, 1, 3) & 0xffff) == (uint32_t) d.begin[3] + 1);
    CHECK(cpuslab_rseq_malloc_overlay(&d, 16) == a + 48);
    CHECK(cpuslab_rseq_free_overlay(&d, a + 96) == 1);
    *stop_word(&d, 1) = 1;
    CHECK(cpuslab_rseq_malloc_overlay(&d, 16) == a + 96);              /* no stop-word check: the fence's rewrite excludes */
    *stop_word(&d, 1) = 0;
    d.page_map = 0;                                            /* closed */
    CHECK(cpuslab_rseq_free_overlay(&d, a + 96) == 0);
    d.page_map = (uint64_t) map;
    cpuslab_rseq_test_fake_registration(0);                   /* "migrated": the rewrite clears the tag */
    CHECK(cpuslab_rseq_free_overlay(&d, a + 96) == 0);
    CHECK(cpuslab_rseq_malloc_overlay(&d, 16) == 0);

    /* The mm_cid flavour: the slab is mm_cid's whatever cpu_id is, and cpu_id still says registered. */
    uint32_t *cpu_id = (uint32_t *) ((const char *) cpuslab_rseq_test_area() + RSEQ_CPU_ID_OFFSET);
    uint32_t *mm_cid = (uint32_t *) ((const char *) cpuslab_rseq_test_area() + RSEQ_MM_CID_OFFSET);
    d.index_field = RSEQ_MM_CID_OFFSET;
    *mm_cid = 1;                                               /* on CPU 0, concurrency ID 1 */
    CHECK(cpuslab_rseq_grow(&d, 5, 2, 1) == 2);
    uint32_t cpu_slab = header(&d, 0, 5);
    CHECK(cpuslab_rseq_free_mm_cid(&d, b) == 1);
    CHECK((header(&d, 1, 5) & 0xffff) == (uint32_t) d.begin[5] + 1 && header(&d, 0, 5) == cpu_slab);
    *cpu_id = (uint32_t) -1;                                   /* unregistered: mm_cid means nothing */
    CHECK(cpuslab_rseq_malloc_mm_cid(&d, 32) == 0);
    CHECK(cpuslab_rseq_free_mm_cid(&d, b + 80) == 0);
    *cpu_id = 0;
    *mm_cid = 2;                                               /* beyond the slabs */
    CHECK(cpuslab_rseq_malloc_mm_cid(&d, 32) == 0);
    CHECK(cpuslab_rseq_free_mm_cid(&d, b + 80) == 0);
    *mm_cid = 1;
    *stop_word(&d, 1) = 1;
    CHECK(cpuslab_rseq_malloc_mm_cid(&d, 32) == 0);            /* stopped */
    CHECK(cpuslab_rseq_free_mm_cid(&d, b + 80) == 0);
    *stop_word(&d, 1) = 0;
    CHECK(cpuslab_rseq_malloc_mm_cid(&d, 32) == b);            /* sizes 25-32: lookup index 4, class 5 */
    d.index_field = RSEQ_CPU_ID_OFFSET;
    cpuslab_rseq_test_fake_registration(0);
    free(leaf);
    free(map);
}

int main(void) {
    _Static_assert(sizeof(struct desc) == DESC_SIZE, "descriptor layout");
    _Static_assert(offsetof(struct desc, slab_bytes) == DESC_SLAB_BYTES, "descriptor layout");
    _Static_assert(offsetof(struct desc, page_map) == DESC_PAGE_MAP, "descriptor layout");
    struct desc d;
    descriptor(&d);
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

    fast_path();

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
