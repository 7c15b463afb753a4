// The C side of the FUSE channel: libfuse3's mount helper (mounting only — the message
// loop is Swift's) and the /dev/fuse ioctls, whose numbers are C macros Swift cannot import.
#ifndef CFUSE_H
#define CFUSE_H

#include <stddef.h>
#include <stdint.h>

/// A mount made by libfuse's helper; keep it to unmount.
typedef struct cfuse_mount cfuse_mount;

/// Mounts `mountpoint` with the comma-separated `options` (libfuse's mount options, such as
/// fsname=..., default_permissions, allow_other, ro) and returns the mount, or NULL with a
/// message in `error`. `*fd` receives the FUSE connection's descriptor.
cfuse_mount *cfuse_mount_open(const char *mountpoint, const char *options, int *fd, char *error, size_t error_size);

/// Unmounts and frees the mount. The descriptor it returned is closed.
void cfuse_mount_close(cfuse_mount *mount);

/// FUSE_DEV_IOC_CLONE on `clone_fd` (a new open of /dev/fuse), attaching it to `session_fd`.
int cfuse_ioctl_clone(int clone_fd, int session_fd);

/// FUSE_DEV_IOC_BACKING_OPEN: registers `backing_fd` for passthrough; returns the backing id (> 0) or -1.
int cfuse_ioctl_backing_open(int fuse_fd, int backing_fd);

/// FUSE_DEV_IOC_BACKING_CLOSE: releases a backing id; returns 0 or -1.
int cfuse_ioctl_backing_close(int fuse_fd, uint32_t backing_id);



/// famfs's daxdev push (its 2026 tree): registers the devdax descriptor `dax_fd` as device
/// `index`. The ioctl number is not public; this is our provisional one, and any failure
/// (ENOTTY on kernels without it) means "use GET_DAXDEV pull". Returns 0 or -1.
int cfuse_ioctl_daxdev_open(int fuse_fd, int dax_fd, uint64_t index);
#endif
