#include "CZlib.h"

#include <zlib.h>

uint32_t czlib_crc32(const void *bytes, size_t count) {
    return (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), (const Bytef *)bytes, count);
}
