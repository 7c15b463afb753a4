// libdaxctl as pkg-config finds it.
#include <daxctl/libdaxctl.h>
