#include "CCacheLines.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

size_t ccache_line_size(void) {
    // CPUID leaf 1, EBX bits 15:8: the CLFLUSH line size in 8-byte units.
    unsigned int eax, ebx, ecx, edx;
    __asm__ volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(1), "c"(0));
    size_t size = ((ebx >> 8) & 0xff) * 8;
    return size ? size : 64;
}

static inline void fence(void) { _mm_mfence(); }
// CLFLUSH exists on every x86-64 CPU; it writes a dirty line back and invalidates it.
static inline void flush_line(const void *line) { _mm_clflush(line); }

#elif defined(__aarch64__)

size_t ccache_line_size(void) {
    // CTR_EL0 bits 19:16: log2 of the smallest data cache line in 4-byte words.
    uint64_t ctr;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    return (size_t)4 << ((ctr >> 16) & 0xf);
}

static inline void fence(void) { __asm__ volatile("dsb sy" ::: "memory"); }
// Clean and invalidate by virtual address to the point of coherency.
static inline void flush_line(const void *line) { __asm__ volatile("dc civac, %0" :: "r"(line) : "memory"); }

#else
#error "CCacheLines supports x86_64 and aarch64"
#endif

size_t ccache_flush(const void *address, size_t length) {
    if (length == 0) return 0;
    const uintptr_t line = ccache_line_size();
    const uintptr_t first = (uintptr_t)address & ~(line - 1);
    const uintptr_t end = (uintptr_t)address + length;
    size_t count = 0;
    fence();
    for (uintptr_t at = first; at < end; at += line, count++) flush_line((const void *)at);
    fence();
    return count;
}
