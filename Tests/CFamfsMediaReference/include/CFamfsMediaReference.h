#ifndef CFAMFS_MEDIA_REFERENCE_H
#define CFAMFS_MEDIA_REFERENCE_H

/* famfs's on-media structs, written from the field list in
 * shared/reference/FAMFS-ON-MEDIA.md (x86_64, little-endian, natural alignment).
 * Tests copy Swift-encoded bytes into these structs and read the fields back. */

#include <stddef.h>
#include <stdint.h>

typedef struct ref_device {
    uint64_t size;
    uint8_t uuid[16];
    char name[64];
} ref_device;

typedef struct ref_superblock {
    uint64_t magic;
    uint64_t version;
    uint64_t log_offset;
    uint64_t log_length;
    uint64_t alloc_unit;
    uint32_t format_major;
    uint32_t format_minor;
    uint8_t fs_uuid[16];
    uint8_t device_uuid[16];
    uint8_t system_uuid[16];
    uint64_t crc;
    uint32_t flags;
    ref_device devices[1];
} ref_superblock;

typedef struct ref_log_header {
    uint64_t magic;
    uint64_t length;
    uint64_t last_index;
    uint64_t crc;
    uint64_t next_seqnum;
    uint64_t next_index;
} ref_log_header;

typedef struct ref_simple_extent {
    uint64_t devindex;
    uint64_t offset;
    uint64_t length;
} ref_simple_extent;

typedef struct ref_interleaved_extent {
    uint64_t nstrips;
    uint64_t chunk_size;
    ref_simple_extent strips[16];
} ref_interleaved_extent;

typedef struct ref_fmap {
    uint32_t ext_type;
    union {
        struct {
            uint32_t nextents;
            ref_simple_extent extents[16];
        } simple;
        struct {
            uint32_t niext;
            ref_interleaved_extent extents[1];
        } interleaved;
    };
} ref_fmap;

typedef struct ref_file_entry {
    uint64_t size;
    uint32_t flags;
    uint32_t uid;
    uint32_t gid;
    uint32_t mode;
    char relpath[80];
    ref_fmap fmap;
} ref_file_entry;

typedef struct ref_mkdir_entry {
    uint32_t uid;
    uint32_t gid;
    uint32_t mode;
    char relpath[80];
} ref_mkdir_entry;

typedef struct ref_daxdev_entry {
    uint64_t size;
    uint8_t uuid[16];
    uint32_t index;
} ref_daxdev_entry;

typedef struct ref_log_entry {
    uint64_t seqnum;
    uint32_t type;
    union {
        ref_file_entry file;
        ref_mkdir_entry mkdir;
        ref_daxdev_entry daxdev;
    };
    uint64_t crc;
} ref_log_entry;

/// One field's place in a struct, as the C compiler laid it out.
typedef struct ref_field_layout {
    const char *name;
    size_t offset;
    size_t size;
} ref_field_layout;

/// Every struct's size and every checked field's offset, keyed "struct" or "struct.field".
const ref_field_layout *ref_layouts(size_t *count);

#endif
