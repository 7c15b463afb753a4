// CPU cache maintenance for memory shared with other hosts that do not keep it coherent
// (CXL memory pooled across hosts): what one host wrote reaches the memory only once its
// cache lines are written back, and another host sees it only after dropping its own copies.
#ifndef CCACHE_LINES_H
#define CCACHE_LINES_H

#include <stddef.h>

/// The data cache line size in bytes.
size_t ccache_line_size(void);

/// Writes back and evicts every cache line overlapping [address, address + length), with
/// fences on both sides so earlier stores are covered and later loads miss. Returns how many
/// lines it flushed.
size_t ccache_flush(const void *address, size_t length);

#endif
