/*
 * jalloc.c - the allocator jansson uses: small blocks come from per-thread
 * free lists in front of malloc.
 *
 * A request builds and frees a couple of dozen small jansson values
 * (objects, their hashtable buckets, key/value pairs, strings, numbers);
 * with glibc each malloc/free pair costs ~150 instructions, a free-list
 * pop/push ~20.  Every block is a plain malloc block (no header): free()
 * learns its class from malloc_usable_size(), and code that frees
 * jansson's memory with free() (json_dumps results, as jansson documents
 * for the default allocator) keeps working.  Each list holds at most
 * JALLOC_KEEP blocks; the rest go back to malloc, so the memory kept is
 * bounded (8 classes x 256 x <= 272 bytes ~ 0.5 MB per thread at most).
 *
 * A block freed by another thread than the one that made it simply joins
 * that thread's list.  Under AddressSanitizer jansson keeps plain malloc,
 * so use-after-free in jansson values is still caught.
 */
#include "core/jalloc.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "core/core.h"

#if defined(__SANITIZE_ADDRESS__)
#define JALLOC_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JALLOC_OFF 1
#endif
#endif

#define JALLOC_CLASSES 8
#define JALLOC_KEEP 256

#ifndef JALLOC_OFF
static const size_t class_size[JALLOC_CLASSES] = {16, 32, 48, 64, 96, 128, 192, 256};

struct jfree {
    struct jfree *next;
};

struct jlist {
    struct jfree *head;
    unsigned n;
};

static __thread struct jlist lists[JALLOC_CLASSES];

static inline int class_of(size_t n)
{
    int c;

    for (c = 0; c < JALLOC_CLASSES; c++)
        if (n <= class_size[c])
            return c;
    return -1;
}

static void *jalloc_malloc(size_t n)
{
    int c = class_of(n);

    if (c >= 0 && lists[c].head) {
        struct jfree *f = lists[c].head;

        lists[c].head = f->next;
        lists[c].n--;
        return f;
    }
    return malloc(c >= 0 ? class_size[c] : n); /* NULL: jansson reports it */
}

static void jalloc_free(void *ptr)
{
    size_t usable;
    int c;

    if (ptr == NULL)
        return;
    /* the largest class the block can hold: at least the size it was
     * made for, so handing it out again for that class is safe */
    usable = malloc_usable_size(ptr);
    for (c = JALLOC_CLASSES - 1; c >= 0 && class_size[c] > usable; c--)
        ;
    if (c >= 0 && usable < class_size[JALLOC_CLASSES - 1] + 32 && lists[c].n < JALLOC_KEEP) {
        struct jfree *f = ptr;

        f->next = lists[c].head;
        lists[c].head = f;
        lists[c].n++;
        return;
    }
    free(ptr);
}

#endif

void jalloc_install(void)
{
#ifndef JALLOC_OFF
    static int done;

    if (!done) {
        done = 1;
        json_set_alloc_funcs(jalloc_malloc, jalloc_free);
    }
#endif
}

void jalloc_trim(void)
{
#ifndef JALLOC_OFF
    int c;

    for (c = 0; c < JALLOC_CLASSES; c++) {
        while (lists[c].head) {
            struct jfree *f = lists[c].head;

            lists[c].head = f->next;
            free(f);
        }
        lists[c].n = 0;
    }
#endif
}
