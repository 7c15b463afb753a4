#include "CDaxctl.h"

#include <daxctl/libdaxctl.h>
#include <stdio.h>
#include <unistd.h>

int cdaxctl_list_devices(cdaxctl_device *out, int capacity) {
    struct daxctl_ctx *ctx = NULL;
    int rc = daxctl_new(&ctx);
    if (rc < 0) {
        return rc;
    }
    int found = 0;
    struct daxctl_region *region;
    daxctl_region_foreach(ctx, region) {
        struct daxctl_dev *dev;
        daxctl_dev_foreach(region, dev) {
            const char *name = daxctl_dev_get_devname(dev);
            char path[64];
            if (name == NULL || !daxctl_dev_is_enabled(dev)) {
                continue;
            }
            int length = snprintf(path, sizeof path, "/dev/%s", name);
            /* A device in system-ram mode has no /dev node: it is not devdax. */
            if (length < 0 || (size_t)length >= sizeof path || access(path, F_OK) != 0) {
                continue;
            }
            if (found < capacity) {
                cdaxctl_device *entry = &out[found];
                snprintf(entry->path, sizeof entry->path, "%s", path);
                entry->size = daxctl_dev_get_size(dev);
                entry->numa_node = daxctl_dev_get_target_node(dev);
                entry->alignment = daxctl_dev_get_align(dev);
            }
            found++;
        }
    }
    daxctl_unref(ctx);
    return found;
}
