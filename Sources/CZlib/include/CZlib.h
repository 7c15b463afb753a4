#ifndef CZLIB_H
#define CZLIB_H

#include <stddef.h>
#include <stdint.h>

/// zlib's crc32 of `count` bytes, starting from the empty checksum.
uint32_t czlib_crc32(const void *bytes, size_t count);

#endif
