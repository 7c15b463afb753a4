#ifndef CDAXCTL_H
#define CDAXCTL_H

#include <stddef.h>

/// One devdax device as libdaxctl reports it.
typedef struct cdaxctl_device {
    /// Character device path, e.g. "/dev/dax0.0" (NUL-terminated).
    char path[64];
    /// Usable bytes.
    unsigned long long size;
    /// NUMA node of the memory, or -1 when unknown.
    int numa_node;
    /// Mapping alignment the device requires, in bytes.
    unsigned long alignment;
} cdaxctl_device;

/// Fills `out` with up to `capacity` enabled devdax devices (those whose /dev node exists).
/// Returns how many exist (which may exceed `capacity`), or a negative errno when libdaxctl
/// cannot start.
int cdaxctl_list_devices(cdaxctl_device *out, int capacity);

#endif
