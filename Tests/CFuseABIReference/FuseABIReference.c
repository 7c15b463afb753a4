#include "FuseABIReference.h"

#include <linux/fuse.h>
#include <string.h>

// Structs newer than this machine's <linux/fuse.h> (7.38), written from the ABI reference.
struct ref_init_out_v45 {
    uint32_t major, minor, max_readahead, flags;
    uint16_t max_background, congestion_threshold;
    uint32_t max_write, time_gran;
    uint16_t max_pages, map_alignment;
    uint32_t flags2, max_stack_depth;
    uint16_t request_timeout;
    uint16_t unused[11];
};

struct ref_open_out_v40 {
    uint64_t fh;
    uint32_t open_flags;
    int32_t backing_id;
};

struct ref_backing_map {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};

struct ref_daxdev_out {
    uint16_t index;
    uint16_t reserved;
    uint32_t reserved2;
    uint64_t reserved3;
    uint64_t reserved4;
    char name[256];
};

struct ref_famfs_fmap_header {
    uint8_t file_type;
    uint8_t reserved;
    uint16_t fmap_version;
    uint32_t ext_type;
    uint32_t nextents;
    uint32_t reserved0;
    uint64_t file_size;
    uint64_t reserved1;
};

struct ref_famfs_simple_ext {
    uint32_t se_devindex;
    uint32_t reserved;
    uint64_t se_offset;
    uint64_t se_len;
};

struct ref_famfs_iext {
    uint32_t ie_nstrips;
    uint32_t ie_chunk_size;
    uint64_t ie_nbytes;
    uint64_t reserved;
};

#define M(k, type) ((type)(0x0101010101010101ULL * (uint64_t)(k)))
#define EMIT(value) do { memcpy(out, &(value), sizeof(value)); return sizeof(value); } while (0)

size_t ref_fuse_in_header(uint8_t *out) {
    struct fuse_in_header v = {0};
    v.len = M(1, uint32_t); v.opcode = M(2, uint32_t); v.unique = M(3, uint64_t); v.nodeid = M(4, uint64_t);
    v.uid = M(5, uint32_t); v.gid = M(6, uint32_t); v.pid = M(7, uint32_t); v.total_extlen = M(8, uint16_t);
    EMIT(v);
}

size_t ref_fuse_out_header(uint8_t *out) {
    struct fuse_out_header v = {0};
    v.len = M(1, uint32_t); v.error = M(2, int32_t); v.unique = M(3, uint64_t);
    EMIT(v);
}

size_t ref_fuse_init_in(uint8_t *out) {
    struct fuse_init_in v = {0};
    v.major = M(1, uint32_t); v.minor = M(2, uint32_t); v.max_readahead = M(3, uint32_t);
    v.flags = M(4, uint32_t) | FUSE_INIT_EXT; v.flags2 = M(5, uint32_t);
    EMIT(v);
}

size_t ref_fuse_init_out(uint8_t *out) {
    _Static_assert(sizeof(struct ref_init_out_v45) == sizeof(struct fuse_init_out), "init_out size changed");
    struct ref_init_out_v45 v = {0};
    v.major = M(1, uint32_t); v.minor = M(2, uint32_t); v.max_readahead = M(3, uint32_t); v.flags = M(4, uint32_t);
    v.max_background = M(5, uint16_t); v.congestion_threshold = M(6, uint16_t); v.max_write = M(7, uint32_t);
    v.time_gran = M(8, uint32_t); v.max_pages = M(9, uint16_t); v.map_alignment = M(10, uint16_t);
    v.flags2 = M(11, uint32_t); v.max_stack_depth = M(12, uint32_t); v.request_timeout = M(13, uint16_t);
    EMIT(v);
}

static struct fuse_attr marked_attr(void) {
    struct fuse_attr v = {0};
    v.ino = M(1, uint64_t); v.size = M(2, uint64_t); v.blocks = M(3, uint64_t); v.atime = M(4, uint64_t);
    v.mtime = M(5, uint64_t); v.ctime = M(6, uint64_t); v.atimensec = M(7, uint32_t); v.mtimensec = M(8, uint32_t);
    v.ctimensec = M(9, uint32_t); v.mode = M(10, uint32_t); v.nlink = M(11, uint32_t); v.uid = M(12, uint32_t);
    v.gid = M(13, uint32_t); v.rdev = M(14, uint32_t); v.blksize = M(15, uint32_t); v.flags = M(16, uint32_t);
    return v;
}

size_t ref_fuse_attr(uint8_t *out) {
    struct fuse_attr v = marked_attr();
    EMIT(v);
}

size_t ref_fuse_entry_out(uint8_t *out) {
    struct fuse_entry_out v = {0};
    v.nodeid = M(1, uint64_t); v.generation = M(2, uint64_t); v.entry_valid = M(3, uint64_t);
    v.attr_valid = M(4, uint64_t); v.entry_valid_nsec = M(5, uint32_t); v.attr_valid_nsec = M(6, uint32_t);
    v.attr = marked_attr();
    EMIT(v);
}

size_t ref_fuse_attr_out(uint8_t *out) {
    struct fuse_attr_out v = {0};
    v.attr_valid = M(1, uint64_t); v.attr_valid_nsec = M(2, uint32_t);
    v.attr = marked_attr();
    EMIT(v);
}

size_t ref_fuse_kstatfs(uint8_t *out) {
    struct fuse_kstatfs v = {0};
    v.blocks = M(1, uint64_t); v.bfree = M(2, uint64_t); v.bavail = M(3, uint64_t); v.files = M(4, uint64_t);
    v.ffree = M(5, uint64_t); v.bsize = M(6, uint32_t); v.namelen = M(7, uint32_t); v.frsize = M(8, uint32_t);
    EMIT(v);
}

size_t ref_fuse_forget_in(uint8_t *out) {
    struct fuse_forget_in v = { .nlookup = M(1, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_forget_one(uint8_t *out) {
    struct fuse_forget_one v = { .nodeid = M(1, uint64_t), .nlookup = M(2, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_batch_forget_in(uint8_t *out) {
    struct fuse_batch_forget_in v = { .count = M(1, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_getattr_in(uint8_t *out) {
    struct fuse_getattr_in v = { .getattr_flags = M(1, uint32_t), .fh = M(2, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_setattr_in(uint8_t *out) {
    struct fuse_setattr_in v = {0};
    v.valid = M(1, uint32_t); v.fh = M(2, uint64_t); v.size = M(3, uint64_t); v.lock_owner = M(4, uint64_t);
    v.atime = M(5, uint64_t); v.mtime = M(6, uint64_t); v.ctime = M(7, uint64_t); v.atimensec = M(8, uint32_t);
    v.mtimensec = M(9, uint32_t); v.ctimensec = M(10, uint32_t); v.mode = M(11, uint32_t);
    v.uid = M(12, uint32_t); v.gid = M(13, uint32_t);
    EMIT(v);
}

size_t ref_fuse_open_in(uint8_t *out) {
    struct fuse_open_in v = { .flags = M(1, uint32_t), .open_flags = M(2, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_create_in(uint8_t *out) {
    struct fuse_create_in v = { .flags = M(1, uint32_t), .mode = M(2, uint32_t), .umask = M(3, uint32_t),
                                .open_flags = M(4, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_mkdir_in(uint8_t *out) {
    struct fuse_mkdir_in v = { .mode = M(1, uint32_t), .umask = M(2, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_rename2_in(uint8_t *out) {
    struct fuse_rename2_in v = { .newdir = M(1, uint64_t), .flags = M(2, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_read_in(uint8_t *out) {
    struct fuse_read_in v = { .fh = M(1, uint64_t), .offset = M(2, uint64_t), .size = M(3, uint32_t),
                              .read_flags = M(4, uint32_t), .lock_owner = M(5, uint64_t), .flags = M(6, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_write_in(uint8_t *out) {
    struct fuse_write_in v = { .fh = M(1, uint64_t), .offset = M(2, uint64_t), .size = M(3, uint32_t),
                               .write_flags = M(4, uint32_t), .lock_owner = M(5, uint64_t), .flags = M(6, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_release_in(uint8_t *out) {
    struct fuse_release_in v = { .fh = M(1, uint64_t), .flags = M(2, uint32_t), .release_flags = M(3, uint32_t),
                                 .lock_owner = M(4, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_flush_in(uint8_t *out) {
    struct fuse_flush_in v = { .fh = M(1, uint64_t), .lock_owner = M(2, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_fsync_in(uint8_t *out) {
    struct fuse_fsync_in v = { .fh = M(1, uint64_t), .fsync_flags = M(2, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_getxattr_in(uint8_t *out) {
    struct fuse_getxattr_in v = { .size = M(1, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_setxattr_in_compat(uint8_t *out) {
    struct fuse_setxattr_in v = { .size = M(1, uint32_t), .flags = M(2, uint32_t) };
    memcpy(out, &v, FUSE_COMPAT_SETXATTR_IN_SIZE);
    return FUSE_COMPAT_SETXATTR_IN_SIZE;
}

size_t ref_fuse_fallocate_in(uint8_t *out) {
    struct fuse_fallocate_in v = { .fh = M(1, uint64_t), .offset = M(2, uint64_t), .length = M(3, uint64_t),
                                   .mode = M(4, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_interrupt_in(uint8_t *out) {
    struct fuse_interrupt_in v = { .unique = M(1, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_access_in(uint8_t *out) {
    struct fuse_access_in v = { .mask = M(1, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_lseek_in(uint8_t *out) {
    struct fuse_lseek_in v = { .fh = M(1, uint64_t), .offset = M(2, uint64_t), .whence = M(3, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_lseek_out(uint8_t *out) {
    struct fuse_lseek_out v = { .offset = M(1, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_open_out(uint8_t *out) {
    _Static_assert(sizeof(struct ref_open_out_v40) == sizeof(struct fuse_open_out), "open_out size changed");
    struct ref_open_out_v40 v = { .fh = M(1, uint64_t), .open_flags = M(2, uint32_t), .backing_id = M(3, int32_t) };
    EMIT(v);
}

size_t ref_fuse_write_out(uint8_t *out) {
    struct fuse_write_out v = { .size = M(1, uint32_t) };
    EMIT(v);
}

size_t ref_fuse_notify_inval_inode_out(uint8_t *out) {
    struct fuse_notify_inval_inode_out v = { .ino = M(1, uint64_t), .off = M(2, int64_t), .len = M(3, int64_t) };
    EMIT(v);
}

size_t ref_fuse_backing_map(uint8_t *out) {
    struct ref_backing_map v = { .fd = M(1, int32_t), .flags = M(2, uint32_t), .padding = M(3, uint64_t) };
    EMIT(v);
}

size_t ref_fuse_daxdev_out(uint8_t *out) {
    struct ref_daxdev_out v = {0};
    v.index = M(1, uint16_t);
    strcpy(v.name, "/dev/dax0.0");
    EMIT(v);
}

size_t ref_fuse_dirent(uint8_t *out) {
    static const char name[] = "file.bin";
    uint8_t buffer[FUSE_NAME_OFFSET + sizeof(name) + 8] = {0};
    struct fuse_dirent *d = (struct fuse_dirent *)buffer;
    d->ino = M(1, uint64_t);
    d->off = M(2, uint64_t);
    d->namelen = sizeof(name) - 1;
    d->type = 8;
    memcpy(d->name, name, d->namelen);
    size_t size = FUSE_DIRENT_SIZE(d);
    memcpy(out, buffer, size);
    return size;
}

#define MIB (1024ULL * 1024ULL)

size_t ref_famfs_fmap_simple(uint8_t *out) {
    struct ref_famfs_fmap_header h = { .file_type = 0, .fmap_version = 1, .ext_type = 0, .nextents = 2,
                                       .file_size = 6 * MIB };
    struct ref_famfs_simple_ext e[2] = { { .se_devindex = 0, .se_offset = 2 * MIB, .se_len = 4 * MIB },
                                         { .se_devindex = 1, .se_offset = 10 * MIB, .se_len = 2 * MIB } };
    _Static_assert(sizeof h == 32 && sizeof e[0] == 24, "famfs struct sizes");
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, e, sizeof e);
    return sizeof h + sizeof e;
}

size_t ref_famfs_fmap_interleaved(uint8_t *out) {
    struct ref_famfs_fmap_header h = { .file_type = 0, .fmap_version = 1, .ext_type = 1, .nextents = 1,
                                       .file_size = 5 * MIB };
    struct ref_famfs_iext ie = { .ie_nstrips = 2, .ie_chunk_size = 2 * MIB, .ie_nbytes = 6 * MIB };
    struct ref_famfs_simple_ext s[2] = { { .se_devindex = 0, .se_offset = 4 * MIB, .se_len = 4 * MIB },
                                         { .se_devindex = 3, .se_offset = 0, .se_len = 2 * MIB } };
    _Static_assert(sizeof ie == 24, "famfs iext size");
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, &ie, sizeof ie);
    memcpy(out + sizeof h + sizeof ie, s, sizeof s);
    return sizeof h + sizeof ie + sizeof s;
}
