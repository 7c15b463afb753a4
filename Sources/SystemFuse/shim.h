// libfuse3 as pkg-config finds it (fuse3.pc puts its headers on the include path).
#define FUSE_USE_VERSION 31
#include <fuse_lowlevel.h>
