/*
 * jalloc.h - per-thread free lists for jansson's small allocations (see
 * jalloc.c).  Install once, before the first jansson value is made: a
 * value made with one allocator must be freed by the same one.
 */
#ifndef AH_SRC_CORE_JALLOC_H
#define AH_SRC_CORE_JALLOC_H

/* Make jansson allocate through the free lists (not under ASan). */
void jalloc_install(void);
/* Give the calling thread's kept blocks back to malloc. */
void jalloc_trim(void);

#endif /* AH_SRC_CORE_JALLOC_H */
