// System calls Swift's Glibc module does not expose: extended attributes.
#ifndef CSYSTEM_EXTRAS_H
#define CSYSTEM_EXTRAS_H

#include <sys/types.h>
#include <sys/xattr.h>

#endif
