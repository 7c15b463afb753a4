// Reference encodings of the FUSE and famfs wire structs, produced by the C compiler from
// C struct definitions: the kernel's own <linux/fuse.h> where it has the struct, and
// definitions written here from the ABI reference where it does not (newer fields, famfs).
//
// Each ref_* function fills one struct with marker values — field k (counting from 1, in
// declaration order, padding and reserved fields skipped and left zero) holds the byte k
// repeated across the field's width — copies its bytes to `out` and returns its size. The
// Swift tests build the same values with their own codecs and compare every byte.
#ifndef FUSE_ABI_REFERENCE_H
#define FUSE_ABI_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

size_t ref_fuse_in_header(uint8_t *out);
size_t ref_fuse_out_header(uint8_t *out);
size_t ref_fuse_init_in(uint8_t *out);
size_t ref_fuse_init_out(uint8_t *out);
size_t ref_fuse_attr(uint8_t *out);
size_t ref_fuse_entry_out(uint8_t *out);
size_t ref_fuse_attr_out(uint8_t *out);
size_t ref_fuse_kstatfs(uint8_t *out);
size_t ref_fuse_forget_in(uint8_t *out);
size_t ref_fuse_forget_one(uint8_t *out);
size_t ref_fuse_batch_forget_in(uint8_t *out);
size_t ref_fuse_getattr_in(uint8_t *out);
size_t ref_fuse_setattr_in(uint8_t *out);
size_t ref_fuse_open_in(uint8_t *out);
size_t ref_fuse_create_in(uint8_t *out);
size_t ref_fuse_mkdir_in(uint8_t *out);
size_t ref_fuse_rename2_in(uint8_t *out);
size_t ref_fuse_read_in(uint8_t *out);
size_t ref_fuse_write_in(uint8_t *out);
size_t ref_fuse_release_in(uint8_t *out);
size_t ref_fuse_flush_in(uint8_t *out);
size_t ref_fuse_fsync_in(uint8_t *out);
size_t ref_fuse_getxattr_in(uint8_t *out);
size_t ref_fuse_setxattr_in_compat(uint8_t *out);
size_t ref_fuse_fallocate_in(uint8_t *out);
size_t ref_fuse_interrupt_in(uint8_t *out);
size_t ref_fuse_access_in(uint8_t *out);
size_t ref_fuse_lseek_in(uint8_t *out);
size_t ref_fuse_lseek_out(uint8_t *out);
size_t ref_fuse_open_out(uint8_t *out);
size_t ref_fuse_write_out(uint8_t *out);
size_t ref_fuse_notify_inval_inode_out(uint8_t *out);
size_t ref_fuse_backing_map(uint8_t *out);
/// fuse_daxdev_out with index marker 1 and name "/dev/dax0.0".
size_t ref_fuse_daxdev_out(uint8_t *out);
/// One fuse_dirent: ino marker 1, off marker 2, type 8 (DT_REG), name "file.bin", padded to 8.
size_t ref_fuse_dirent(uint8_t *out);

/// A GET_FMAP reply: simple header (file_type 0, fmap_version 1, ext_type 0, nextents 2,
/// file_size 6 MiB) then extents {dev 0, 2 MiB, 4 MiB} and {dev 1, 10 MiB, 2 MiB}.
size_t ref_famfs_fmap_simple(uint8_t *out);
/// A GET_FMAP reply: interleaved header (nextents 1, file_size 5 MiB) then one iext
/// (nstrips 2, chunk 2 MiB, nbytes 6 MiB) and strips {dev 0, 4 MiB, 4 MiB} and {dev 3, 0, 2 MiB}.
size_t ref_famfs_fmap_interleaved(uint8_t *out);

#endif
