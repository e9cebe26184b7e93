/* glibc's heap from Swift: how many bytes its arenas hold free, and giving the free pages back
   to the system (malloc_trim). Where the C library is not glibc (musl, Darwin) both do nothing. */
#ifndef EXITBRAIN_CMALLOC_SHIM_H
#define EXITBRAIN_CMALLOC_SHIM_H

#include <stdlib.h>
#include <stddef.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static inline size_t eb_heap_free_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 info = mallinfo2();
    return info.fordblks;
#else
    return 0;
#endif
}

/* 1 when some memory was given back, 0 when none could be. */
static inline int eb_heap_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

#endif
