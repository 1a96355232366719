/*
 * engine_heap.c — counts every heap byte of the bench process, per side.
 *
 * The engine's allocation hook sees only the engine's own objects: mbedTLS allocates
 * its MPIs, ECP points and cipher contexts with plain calloc (Debian builds it without
 * MBEDTLS_PLATFORM_MEMORY). To count those too, this file replaces malloc and friends
 * for the whole program (glibc allows it: "Replacing malloc" in its manual) with thin
 * wrappers over glibc's own __libc_* entry points that add malloc_usable_size() of
 * each block to the side whose call is running. Frees are charged to the running side
 * too; every connection is created, used and freed by calls of its own side.
 *
 * Single-threaded by design: the bench never starts a thread, so plain counters do.
 */
#include "engine.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

int bench_side = SIDE_NONE;
bench_counter bench_heap, bench_hook, bench_ossl;

void bench_counter_add(bench_counter *c, int64_t n)
{
    int64_t v = c->live[bench_side] += n;
    if (v > c->peak[bench_side])
        c->peak[bench_side] = v;
}

void bench_counter_mark(bench_counter *c, int64_t base[SIDE_COUNT])
{
    for (int s = 0; s < SIDE_COUNT; s++) {
        c->peak[s] = c->live[s];
        if (base)
            base[s] = c->live[s];
    }
}

/* glibc's allocator under its internal names (exported since glibc 2.0). */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static void *counted(void *p)
{
    if (p)
        bench_counter_add(&bench_heap, (int64_t)malloc_usable_size(p));
    return p;
}

void *malloc(size_t size)
{
    return counted(__libc_malloc(size));
}

void *calloc(size_t n, size_t size)
{
    return counted(__libc_calloc(n, size));
}

void free(void *p)
{
    if (p) {
        bench_counter_add(&bench_heap, -(int64_t)malloc_usable_size(p));
        __libc_free(p);
    }
}

void *realloc(void *p, size_t size)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, size);
    if (q) {
        bench_counter_add(&bench_heap, -(int64_t)old);
        counted(q);
    } else if (p && size == 0) {
        bench_counter_add(&bench_heap, -(int64_t)old); /* realloc(p, 0) freed p */
    }
    return q;
}

void *memalign(size_t align, size_t size)
{
    return counted(__libc_memalign(align, size));
}

void *aligned_alloc(size_t align, size_t size)
{
    return counted(__libc_memalign(align, size));
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = counted(__libc_memalign(align, size));
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return counted(__libc_valloc(size));
}

void *pvalloc(size_t size)
{
    return counted(__libc_pvalloc(size));
}
