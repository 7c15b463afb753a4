#define FUSE_USE_VERSION 31
#include "CFuse.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct cfuse_mount {
    struct fuse_session *session;
};

cfuse_mount *cfuse_mount_open(const char *mountpoint, const char *options, int *fd, char *error, size_t error_size) {
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse_lowlevel_ops no_operations;
    memset(&no_operations, 0, sizeof no_operations);
    if (fuse_opt_add_arg(&args, "famfs-policyd") != 0 ||
        (options && *options && (fuse_opt_add_arg(&args, "-o") != 0 || fuse_opt_add_arg(&args, options) != 0))) {
        snprintf(error, error_size, "out of memory building mount options");
        fuse_opt_free_args(&args);
        return NULL;
    }
    struct fuse_session *session = fuse_session_new(&args, &no_operations, sizeof no_operations, NULL);
    fuse_opt_free_args(&args);
    if (!session) {
        snprintf(error, error_size, "libfuse refused the mount options '%s'", options ? options : "");
        return NULL;
    }
    if (fuse_session_mount(session, mountpoint) != 0) {
        snprintf(error, error_size, "mounting %s failed (is /dev/fuse available and the directory empty?)", mountpoint);
        fuse_session_destroy(session);
        return NULL;
    }
    cfuse_mount *mount = calloc(1, sizeof *mount);
    if (!mount) {
        fuse_session_unmount(session);
        fuse_session_destroy(session);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    mount->session = session;
    *fd = fuse_session_fd(session);
    return mount;
}

void cfuse_mount_close(cfuse_mount *mount) {
    if (!mount) return;
    fuse_session_unmount(mount->session);
    fuse_session_destroy(mount->session);
    free(mount);
}

int cfuse_ioctl_clone(int clone_fd, int session_fd) {
    uint32_t session = (uint32_t)session_fd;
    return ioctl(clone_fd, FUSE_DEV_IOC_CLONE, &session);
}

// Defined here from the ABI reference: this machine's <linux/fuse.h> predates passthrough.
struct cfuse_backing_map {
    int32_t fd;
    uint32_t flags;
    uint64_t padding;
};
#define CFUSE_DEV_IOC_BACKING_OPEN _IOW(FUSE_DEV_IOC_MAGIC, 1, struct cfuse_backing_map)
#define CFUSE_DEV_IOC_BACKING_CLOSE _IOW(FUSE_DEV_IOC_MAGIC, 2, uint32_t)

int cfuse_ioctl_backing_open(int fuse_fd, int backing_fd) {
    struct cfuse_backing_map map = { .fd = backing_fd, .flags = 0, .padding = 0 };
    return ioctl(fuse_fd, CFUSE_DEV_IOC_BACKING_OPEN, &map);
}

int cfuse_ioctl_backing_close(int fuse_fd, uint32_t backing_id) {
    return ioctl(fuse_fd, CFUSE_DEV_IOC_BACKING_CLOSE, &backing_id);
}

#define CFUSE_DEV_IOC_DAXDEV_OPEN _IOW(FUSE_DEV_IOC_MAGIC, 0x80, struct cfuse_backing_map)

int cfuse_ioctl_daxdev_open(int fuse_fd, int dax_fd, uint64_t index) {
    struct cfuse_backing_map map = { .fd = dax_fd, .flags = 0, .padding = index };
    return ioctl(fuse_fd, CFUSE_DEV_IOC_DAXDEV_OPEN, &map);
}
