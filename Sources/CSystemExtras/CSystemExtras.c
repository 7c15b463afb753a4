// Headers only: the functions are libc's.
#include "CSystemExtras.h"
