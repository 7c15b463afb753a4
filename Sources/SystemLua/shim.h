// liblua5.4 as pkg-config finds it (lua5.4.pc puts its headers on the include path).
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
