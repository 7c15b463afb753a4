#include "clua_internal.h"

#include <stdlib.h>
#include <string.h>

/* The 0-based device index `function` was given at stack index `at`: an index or a device
   table (the host's own, known by address, or any table with an integer `index`). Sets
   `*own_table` when it is the host's own table for that index. */
static lua_Integer device_argument(lua_State *L, clua_runtime *rt, int at, const char *function, int *own_table) {
    int isnum = 0;
    *own_table = 0;
    if (lua_type(L, at) != LUA_TTABLE) {
        lua_Integer device = lua_tointegerx(L, at, &isnum);
        if (!isnum)
            clua_raise(L, "%s: device must be an index or a device table, got %s", function, luaL_typename(L, at));
        return device;
    }
    lua_Integer known = clua_host_device_index(rt, lua_topointer(L, at));
    if (known >= 0) {
        *own_table = 1;
        return known;
    }
    clua_get_field(L, rt, at, CLUA_KEY_INDEX);
    lua_Integer device = lua_tointegerx(L, -1, &isnum);
    if (!isnum) clua_raise(L, "%s: device table has no integer 'index'", function);
    lua_pop(L, 1);
    return device;
}

static lua_Integer integer_argument(lua_State *L, int at, const char *function, const char *name) {
    int isnum = 0;
    lua_Integer value = lua_tointegerx(L, at, &isnum);
    if (!isnum) clua_raise(L, "%s: %s must be an integer, got %s", function, name, luaL_typename(L, at));
    return value;
}

/* Allocates through the host, records the range for the call and updates the device's
   `free` (in the host's device table at stack index `own_table`, or looked up when that is 0);
   raises as alloc documents. */
static clua_range allocate(lua_State *L, clua_runtime *rt, lua_Integer device, lua_Integer bytes, lua_Integer alignment,
                           int own_table) {
    if (rt->allocation_count == rt->allocation_capacity) {
        size_t capacity = rt->allocation_capacity ? rt->allocation_capacity * 2 : 32;
        clua_range *grown = realloc(rt->allocations, capacity * sizeof *grown);
        if (grown == NULL) clua_raise(L, "alloc: out of host memory");
        rt->allocations = grown;
        rt->allocation_capacity = capacity;
    }
    int64_t offset = 0, length = 0;
    char error[256] = "";
    clua_host_status status = rt->host.alloc(rt->host.context, device, bytes, alignment, &offset, &length, error, sizeof error);
    if (status == CLUA_HOST_NO_SPACE) {
        clua_copy_text(rt->no_space_message, sizeof rt->no_space_message, error, strlen(error));
        clua_raise(L, "%s", error);
    }
    if (status != CLUA_HOST_OK) clua_raise(L, "%s", error);
    clua_range range = {device, offset, length};
    rt->allocations[rt->allocation_count++] = range;
    /* Keep the script's view of free space current within the call. */
    if (device >= 0 && device < rt->device_count) {
        int top = lua_gettop(L);
        if (own_table == 0) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, rt->device_tables_ref);
            lua_rawgeti(L, -1, device + 1);
            own_table = lua_gettop(L);
        }
        rt->published_free[device] -= length;
        clua_set_integer(L, rt, own_table, CLUA_KEY_FREE, rt->published_free[device]);
        lua_settop(L, top);
    }
    return range;
}

static void require_layout_call(lua_State *L, clua_runtime *rt, const char *function) {
    if (rt->current_hook != CLUA_HOOK_LAYOUT || !rt->in_call) clua_raise(L, "%s: only available inside layout", function);
}

/* alloc(device, bytes [, align]) -> { dev = i, offset = o, length = n }.
   `device` is a 0-based index or a device table; raises on misuse or when no space is left. */
static int host_alloc(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    require_layout_call(L, rt, "alloc");
    int own_table = 0;
    lua_Integer device = device_argument(L, rt, 1, "alloc", &own_table);
    lua_Integer bytes = integer_argument(L, 2, "alloc", "bytes");
    lua_Integer alignment = lua_isnoneornil(L, 3) ? 0 : integer_argument(L, 3, "alloc", "align");
    clua_push_range(L, rt, allocate(L, rt, device, bytes, alignment, own_table ? 1 : 0));
    return 1;
}

/* How `nchunks` chunks are dealt over a device list: chunk k goes to strip k % strips, so the
   first `longer` strips hold `shorter + 1` chunks and the rest `shorter`. */
typedef struct strip_plan {
    lua_Integer chunks, chunk, strips, shorter, longer;
} strip_plan;

/* Checks the (devices, nchunks, chunk_size) arguments of `function` at stack indices 1-3,
   charges one instruction per strip and leaves only the device list on the stack. */
static strip_plan plan_strips(lua_State *L, const char *function) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer chunks = integer_argument(L, 2, function, "nchunks");
    lua_Integer chunk = integer_argument(L, 3, function, "chunk_size");
    lua_Integer count = (lua_Integer)lua_rawlen(L, 1);
    if (count == 0) clua_raise(L, "%s: the device list is empty", function);
    if (chunks <= 0 || chunk <= 0) clua_raise(L, "%s: nchunks and chunk_size must be positive", function);
    if (chunk > INT64_MAX / chunks) clua_raise(L, "%s: %I chunks of %I bytes are too many", function, chunks, chunk);
    lua_Integer strips = count < chunks ? count : chunks;
    clua_charge(L, strips);
    lua_settop(L, 1);
    return (strip_plan){chunks, chunk, strips, chunks / strips, chunks % strips};
}

/* Allocates strip `s` (1-based) of `plan` on the device at position `s` of the list at stack index 1. */
static clua_range allocate_strip(lua_State *L, clua_runtime *rt, strip_plan plan, lua_Integer s, const char *function) {
    lua_rawgeti(L, 1, s);
    int entry = lua_gettop(L), own_table = 0;
    lua_Integer device = device_argument(L, rt, entry, function, &own_table);
    clua_range range = allocate(L, rt, device, (s <= plan.longer ? plan.shorter + 1 : plan.shorter) * plan.chunk,
                                plan.chunk, own_table ? entry : 0);
    lua_pop(L, 1);
    return range;
}

/* alloc_strips(devices, nchunks, chunk_size) -> { range, ... }: the strips of an interleaved
   extent in one call, as if alloc ran for each: `nchunks` chunks dealt round-robin over the
   devices of the sequence (one strip each, or one per chunk when there are fewer chunks),
   each strip aligned to `chunk_size`. Charged one instruction per strip, like a loop. */
static int host_alloc_strips(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    require_layout_call(L, rt, "alloc_strips");
    strip_plan plan = plan_strips(L, "alloc_strips");
    lua_createtable(L, (int)plan.strips, 0);
    for (lua_Integer s = 1; s <= plan.strips; s++) {
        clua_push_range(L, rt, allocate_strip(L, rt, plan, s, "alloc_strips"));
        lua_rawseti(L, 2, s);
    }
    return 1;
}

/* alloc_interleaved(devices, nchunks, chunk_size) -> fmap: allocates as alloc_strips does and
   returns the fmap of one interleaved extent over those strips (nbytes = nchunks * chunk_size)
   as a host object (clua_fmap.c), which a layout returns without building tables. */
static int host_alloc_interleaved(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    require_layout_call(L, rt, "alloc_interleaved");
    strip_plan plan = plan_strips(L, "alloc_interleaved");
    clua_built_fmap *fmap = clua_new_built_fmap(L, plan.strips, plan.chunk, plan.chunks * plan.chunk);
    for (lua_Integer s = 1; s <= plan.strips; s++) fmap->strips[s - 1] = allocate_strip(L, rt, plan, s, "alloc_interleaved");
    return 1;
}

/* Joins the arguments with spaces (tostring semantics) and hands them to the host logger. */
static int log_with_level(lua_State *L, int level) {
    clua_runtime *rt = clua_runtime_of(L);
    int count = lua_gettop(L);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (int i = 1; i <= count; i++) {
        if (i > 1) luaL_addchar(&buffer, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&buffer);
    }
    luaL_pushresult(&buffer);
    size_t length;
    const char *message = lua_tolstring(L, -1, &length);
    rt->host.log(rt->host.context, level, message, length);
    return 0;
}

static int log_debug(lua_State *L) { return log_with_level(L, 0); }
static int log_info(lua_State *L) { return log_with_level(L, 1); }
static int log_warn(lua_State *L) { return log_with_level(L, 2); }
static int log_error(lua_State *L) { return log_with_level(L, 3); }

/* __close of a loading guard: a module still marked as loading (its load raised) is
   forgotten, so that the next require runs it again instead of calling it a cycle. */
static int forget_failed_load(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->loaded_modules_ref);
    lua_rawgeti(L, 1, 1);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -3) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawset(L, -3);
    }
    return 0;
}

/* Pushes a to-be-closed guard for the module named at stack index `name`, which Lua closes
   when require returns or an error unwinds it. */
static void push_loading_guard(lua_State *L, int name) {
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, name);
    lua_rawseti(L, -2, 1);
    if (luaL_newmetatable(L, "famfs.loading_guard")) {
        lua_pushcfunction(L, forget_failed_load);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
}

/* require(name): modules of the policy's own folder only, loaded as text into the sandbox,
   run once per state. */
static int host_require(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    size_t name_length;
    const char *name = luaL_checklstring(L, 1, &name_length);
    if (strlen(name) != name_length) return clua_raise(L, "require: module name contains a NUL byte");
    lua_settop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->loaded_modules_ref);
    lua_pushvalue(L, 1);
    lua_rawget(L, 2);
    if (lua_type(L, 3) == LUA_TBOOLEAN && !lua_toboolean(L, 3))
        return clua_raise(L, "require: module '%s' requires itself while loading", name);
    if (!lua_isnil(L, 3)) return 1;
    lua_pop(L, 1);
    push_loading_guard(L, 1);

    char *text = NULL;
    size_t text_length = 0;
    char chunkname[160] = "";
    char error[512] = "";
    if (rt->host.read_module(rt->host.context, name, &text, &text_length, chunkname, sizeof chunkname,
                             error, sizeof error) != CLUA_HOST_OK)
        return clua_raise(L, "require: %s", error);
    int loaded = luaL_loadbufferx(L, text, text_length, chunkname, "t");
    free(text);
    if (loaded != LUA_OK) return lua_error(L);

    lua_pushvalue(L, 1);
    lua_pushboolean(L, 0);
    lua_rawset(L, 2);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, 2);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]) from the base library, text only: the mode is
   forced to "t", and a binary string is refused outright. */
static int sandbox_load(lua_State *L) {
    size_t length;
    const char *chunk = lua_tolstring(L, 1, &length);
    if (lua_type(L, 1) == LUA_TSTRING && length > 0 && chunk[0] == LUA_SIGNATURE[0])
        return clua_raise(L, "load: binary chunks are not allowed in policies");
    int given = lua_gettop(L);
    lua_settop(L, 4);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (given >= 4) lua_pushvalue(L, 4);
    lua_call(L, given >= 4 ? 4 : 3, LUA_MULTRET);
    return lua_gettop(L) - 4;
}

/* Calls the library function a wrapper holds as upvalue 1 with every value on the stack as
   its arguments; returns how many results it left (`results` of them, or all for LUA_MULTRET). */
static int call_wrapped(lua_State *L, int results) {
    int given = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, given, results);
    return lua_gettop(L);
}

/* setmetatable from the base library, refusing __gc: Lua runs finalizers with hooks off,
   so the instruction budget could not stop one. */
static int sandbox_setmetatable(lua_State *L) {
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return clua_raise(L, "setmetatable: __gc metamethods are not allowed in policies");
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    return call_wrapped(L, 1);
}

/* xpcall(f, handler, ...) from the base library, except that the handler runs once the
   failed call has unwound, as an ordinary call. Lua runs a message handler with hooks off
   while it raises, so a handler that loops could never be stopped by the budget. An error
   in the handler becomes xpcall's error value, as Lua's own "error in error handling". A
   stop (budget, time, memory) goes on through xpcall at once, from the line that called it. */
static int sandbox_xpcall(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    int given = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    luaL_checkstack(L, given + 2, "too many arguments to xpcall");
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= given; i++) lua_pushvalue(L, i);
    if (lua_pcall(L, given - 2, LUA_MULTRET, 0) == LUA_OK) return lua_gettop(L) - given;
    if (clua_stopping(rt)) return lua_error(L);
    lua_pushvalue(L, 2);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK && clua_stopping(rt)) return lua_error(L);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* string.rep, except that repeating an empty string (with an empty separator) returns at
   once: the library would loop `n` times in C, out of the budget's reach. */
static int sandbox_string_rep(lua_State *L) {
    size_t length = 0, separator_length = 0;
    luaL_checklstring(L, 1, &length);
    luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &separator_length);
    if (length + separator_length == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    lua_settop(L, 3);
    return call_wrapped(L, 1);
}

/* Table library functions loop in C over a range of elements, where the count hook never
   looks, and read them through metamethods that may themselves be C functions: without a
   charge, `table.concat(setmetatable({}, {__index = table.concat}), "", 1, math.maxinteger)`
   would run for ever without one instruction or allocation. Each is charged up front for
   the elements it may touch, computed from its arguments as the library reads them. */
typedef enum charged_table_function {
    CHARGE_MOVE, CHARGE_CONCAT, CHARGE_UNPACK, CHARGE_INSERT, CHARGE_REMOVE, CHARGE_SORT
} charged_table_function;

static lua_Unsigned element_span(lua_Integer first, lua_Integer last) {
    return last >= first ? (lua_Unsigned)last - (lua_Unsigned)first + 1 : 0;
}

/* The length of the list at index 1 as the library takes it (`#`, with __len); 0 for a value
   without a metatable that is not a table, which the library refuses itself. */
static lua_Integer list_length(lua_State *L) {
    if (lua_type(L, 1) != LUA_TTABLE) {
        if (!lua_getmetatable(L, 1)) return 0;
        lua_pop(L, 1);
    }
    return luaL_len(L, 1);
}

static lua_Unsigned elements_touched(lua_State *L, charged_table_function function) {
    switch (function) {
    case CHARGE_MOVE: return element_span(luaL_checkinteger(L, 2), luaL_checkinteger(L, 3));
    case CHARGE_CONCAT:
        return element_span(luaL_optinteger(L, 3, 1), lua_isnoneornil(L, 4) ? list_length(L) : luaL_checkinteger(L, 4));
    case CHARGE_UNPACK:
        return element_span(luaL_optinteger(L, 2, 1), lua_isnoneornil(L, 3) ? list_length(L) : luaL_checkinteger(L, 3));
    case CHARGE_INSERT: return lua_gettop(L) > 2 ? (lua_Unsigned)list_length(L) : 0; /* a position shifts the rest */
    case CHARGE_REMOVE: return lua_gettop(L) > 1 ? (lua_Unsigned)list_length(L) : 0;
    case CHARGE_SORT: {
        lua_Unsigned n = (lua_Unsigned)list_length(L), levels = 1;
        while (levels < 64 && ((lua_Unsigned)1 << levels) < n) levels++;
        return n > UINT64_MAX / levels ? UINT64_MAX : n * levels; /* about n log2 n comparisons */
    }
    }
    return 0;
}

/* The library function in upvalue 1, charged one instruction per element it may touch
   (upvalue 2 says which function it is). */
static int sandbox_charged_table_function(lua_State *L) {
    lua_Unsigned count = elements_touched(L, (charged_table_function)lua_tointeger(L, lua_upvalueindex(2)));
    clua_charge(L, count > (lua_Unsigned)INT64_MAX ? INT64_MAX : (int64_t)count);
    return call_wrapped(L, LUA_MULTRET);
}

static void charge_table_function(lua_State *L, int table, const char *name, charged_table_function function) {
    lua_getfield(L, table, name);
    lua_pushinteger(L, function);
    lua_pushcclosure(L, sandbox_charged_table_function, 2);
    lua_setfield(L, table, name);
}

/* Replaces library function `table[name]` by `wrapper`, which gets the original as upvalue 1. */
static void wrap_field(lua_State *L, int table, const char *name, lua_CFunction wrapper) {
    lua_getfield(L, table, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, table, name);
}

static void remove_field(lua_State *L, int table, const char *name) {
    lua_pushnil(L);
    lua_setfield(L, table, name);
}

void clua_open_sandbox(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_settop(L, 0);
    lua_pushglobaltable(L);
    int globals = lua_gettop(L);

    remove_field(L, globals, "dofile");
    remove_field(L, globals, "loadfile");
    wrap_field(L, globals, "load", sandbox_load);
    wrap_field(L, globals, "setmetatable", sandbox_setmetatable);
    lua_pushcfunction(L, sandbox_xpcall);
    lua_setfield(L, globals, "xpcall");
    lua_getfield(L, globals, LUA_STRLIBNAME);
    remove_field(L, lua_gettop(L), "dump");
    wrap_field(L, lua_gettop(L), "rep", sandbox_string_rep);
    lua_pop(L, 1);
    lua_getfield(L, globals, LUA_TABLIBNAME);
    int table = lua_gettop(L);
    charge_table_function(L, table, "move", CHARGE_MOVE);
    charge_table_function(L, table, "concat", CHARGE_CONCAT);
    charge_table_function(L, table, "unpack", CHARGE_UNPACK);
    charge_table_function(L, table, "insert", CHARGE_INSERT);
    charge_table_function(L, table, "remove", CHARGE_REMOVE);
    charge_table_function(L, table, "sort", CHARGE_SORT);
    lua_pop(L, 1);

    /* os.time and os.clock only: the os library is opened unpublished and picked from. */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    lua_createtable(L, 0, 2);
    lua_getfield(L, -2, "time");
    lua_setfield(L, -2, "time");
    lua_getfield(L, -2, "clock");
    lua_setfield(L, -2, "clock");
    lua_setfield(L, globals, LUA_OSLIBNAME);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    remove_field(L, lua_gettop(L), LUA_OSLIBNAME);
    lua_pop(L, 1);

    lua_pushcfunction(L, host_alloc);
    lua_setfield(L, globals, "alloc");
    lua_pushcfunction(L, host_alloc_strips);
    lua_setfield(L, globals, "alloc_strips");
    lua_pushcfunction(L, host_alloc_interleaved);
    lua_setfield(L, globals, "alloc_interleaved");
    clua_register_built_fmap(L);
    lua_pushcfunction(L, host_require);
    lua_setfield(L, globals, "require");
    lua_pushcfunction(L, log_info);
    lua_setfield(L, globals, "print");
    static const luaL_Reg log_functions[] = {
        {"debug", log_debug}, {"info", log_info}, {"warn", log_warn}, {"error", log_error}, {NULL, NULL}};
    luaL_newlib(L, log_functions);
    lua_setfield(L, globals, "log");
    lua_newtable(L);
    lua_setfield(L, globals, "config");

    lua_newtable(L);
    rt->loaded_modules_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    clua_intern_keys(L, rt);
    lua_settop(L, 0);
}
