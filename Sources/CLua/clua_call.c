#include "clua_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const clua_hook_names[CLUA_HOOK_COUNT] = {"layout", "placement", "on_release", "resolve_device"};

const char *const clua_key_names[CLUA_KEY_COUNT] = {
    [CLUA_KEY_PATH] = "path", [CLUA_KEY_SIZE] = "size", [CLUA_KEY_UID] = "uid", [CLUA_KEY_GID] = "gid",
    [CLUA_KEY_MODE] = "mode", [CLUA_KEY_INDEX] = "index", [CLUA_KEY_FREE] = "free",
    [CLUA_KEY_ALIGNMENT] = "alignment", [CLUA_KEY_NUMA_NODE] = "numa_node", [CLUA_KEY_DEV] = "dev",
    [CLUA_KEY_OFFSET] = "offset", [CLUA_KEY_LENGTH] = "length", [CLUA_KEY_EXT_TYPE] = "ext_type",
    [CLUA_KEY_EXTENTS] = "extents", [CLUA_KEY_NSTRIPS] = "nstrips", [CLUA_KEY_CHUNK_SIZE] = "chunk_size",
    [CLUA_KEY_NBYTES] = "nbytes", [CLUA_KEY_STRIPS] = "strips"};

void clua_intern_keys(lua_State *L, clua_runtime *rt) {
    for (int key = 0; key < CLUA_KEY_COUNT; key++) {
        lua_pushstring(L, clua_key_names[key]);
        rt->key_refs[key] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
}

/* Raises a failure the host detected (a malformed return value, a missing hook). */
static int raise_status(lua_State *L, clua_status status, const char *field, const char *format, ...) {
    clua_runtime *rt = clua_runtime_of(L);
    rt->pending_status = status;
    clua_copy_text(rt->failure.field, sizeof rt->failure.field, field, strlen(field));
    va_list args;
    va_start(args, format);
    lua_pushvfstring(L, format, args);
    va_end(args);
    if (field[0] != '\0') {
        lua_pushfstring(L, "%s: %s", field, lua_tostring(L, -1));
        lua_remove(L, -2);
    }
    return lua_error(L);
}

void clua_push_result_integer(lua_State *L, clua_runtime *rt, int64_t value) {
    if (rt->integer_count == rt->integer_capacity) {
        size_t capacity = rt->integer_capacity ? rt->integer_capacity * 2 : 64;
        int64_t *grown = realloc(rt->integers, capacity * sizeof *grown);
        if (grown == NULL) clua_raise(L, "out of host memory for the layout result");
        rt->integers = grown;
        rt->integer_capacity = capacity;
    }
    rt->integers[rt->integer_count++] = value;
}

void clua_set_result_string(lua_State *L, clua_runtime *rt, const char *text, size_t length) {
    char *copy = realloc(rt->string, length + 1);
    if (copy == NULL) clua_raise(L, "out of host memory for the result");
    memcpy(copy, text, length);
    copy[length] = '\0';
    rt->string = copy;
    rt->string_length = length;
}

/* Where a value sits in the returned fmap, formatted only when it is reported. */
typedef struct field_ref {
    lua_Integer extent;  /* -1: the fmap itself */
    lua_Integer strip;   /* -1: not inside a strip */
} field_ref;

static void format_field(char *buffer, size_t size, field_ref at, const char *key) {
    int used = 0;
    if (at.extent >= 0) used = snprintf(buffer, size, "extents[%lld]", (long long)at.extent);
    if (at.strip >= 0 && used >= 0 && (size_t)used < size)
        used += snprintf(buffer + used, size - (size_t)used, ".strips[%lld]", (long long)at.strip);
    if (key != NULL && used >= 0 && (size_t)used < size)
        snprintf(buffer + used, size - (size_t)used, "%s%s", used > 0 ? "." : "", key);
}

/* Raises a bad return naming the field; the message is `format` with the value's type name. */
static int raise_bad_value(lua_State *L, field_ref at, const char *key, const char *format, ...) {
    char field[128];
    format_field(field, sizeof field, at, key);
    va_list args;
    va_start(args, format);
    lua_pushvfstring(L, format, args);
    va_end(args);
    return raise_status(L, CLUA_BAD_RETURN, field, "%s", lua_tostring(L, -1));
}

/* Reads `table.key` raw (metatables are ignored) as a non-negative integer. */
static int64_t read_integer(lua_State *L, const clua_runtime *rt, int table, field_ref at, clua_key key,
                            int64_t maximum) {
    const char *name = clua_key_names[key];
    if (clua_get_field(L, rt, table, key) != LUA_TNUMBER)
        raise_bad_value(L, at, name, "expected an integer, got %s", luaL_typename(L, -1));
    int isnum = 0;
    lua_Integer value = lua_tointegerx(L, -1, &isnum);
    if (!isnum) raise_bad_value(L, at, name, "expected an integer, got %f", lua_tonumber(L, -1));
    if (value < 0) raise_bad_value(L, at, name, "%I is negative", value);
    if (value > maximum) raise_bad_value(L, at, name, "%I is out of range", value);
    lua_pop(L, 1);
    return value;
}

/* Pushes `table.key` raw and checks that it is a table; returns its stack index. */
static int read_table(lua_State *L, const clua_runtime *rt, int table, field_ref at, clua_key key) {
    if (clua_get_field(L, rt, table, key) != LUA_TTABLE)
        raise_bad_value(L, at, clua_key_names[key], "expected a table, got %s", luaL_typename(L, -1));
    return lua_gettop(L);
}

/* Pushes the sequence entry at 0-based position `at.strip` (or `at.extent` outside strips). */
static int read_entry(lua_State *L, int list, field_ref at) {
    lua_rawgeti(L, list, (at.strip >= 0 ? at.strip : at.extent) + 1);
    if (!lua_istable(L, -1)) raise_bad_value(L, at, NULL, "expected a table, got %s", luaL_typename(L, -1));
    return lua_gettop(L);
}

static lua_Integer sequence_length(lua_State *L, int list, field_ref at, const char *key) {
    lua_Unsigned length = lua_rawlen(L, list);
    if (length > CLUA_MAX_RETURNED_EXTENTS)
        raise_bad_value(L, at, key, "%I entries; at most %d are read", (lua_Integer)length, CLUA_MAX_RETURNED_EXTENTS);
    return (lua_Integer)length;
}

static void flatten_range(lua_State *L, clua_runtime *rt, int range, field_ref at) {
    clua_push_result_integer(L, rt, read_integer(L, rt, range, at, CLUA_KEY_DEV, UINT32_MAX));
    clua_push_result_integer(L, rt, read_integer(L, rt, range, at, CLUA_KEY_OFFSET, INT64_MAX));
    clua_push_result_integer(L, rt, read_integer(L, rt, range, at, CLUA_KEY_LENGTH, INT64_MAX));
}

/* Flattens an fmap alloc_interleaved made: one interleaved extent. */
static void flatten_built(lua_State *L, clua_runtime *rt, const clua_built_fmap *fmap) {
    if (fmap->nstrips > CLUA_MAX_RETURNED_EXTENTS)
        raise_status(L, CLUA_BAD_RETURN, "extents[0].strips", "%I entries; at most %d are read", fmap->nstrips,
                     CLUA_MAX_RETURNED_EXTENTS);
    const int64_t head[] = {CLUA_EXT_INTERLEAVED, 1, fmap->nstrips, fmap->chunk_size, fmap->nbytes};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) clua_push_result_integer(L, rt, head[i]);
    for (lua_Integer s = 0; s < fmap->nstrips; s++) {
        clua_push_result_integer(L, rt, fmap->strips[s].device);
        clua_push_result_integer(L, rt, fmap->strips[s].offset);
        clua_push_result_integer(L, rt, fmap->strips[s].length);
    }
}

/* Flattens the fmap table a layout hook returned (see clua_call in CLua.h). */
void clua_flatten_layout(lua_State *L, clua_runtime *rt, int fmap) {
    rt->integer_count = 0;
    field_ref top = {-1, -1};
    const clua_built_fmap *built = clua_to_built_fmap(L, fmap);
    if (built != NULL) {
        flatten_built(L, rt, built);
        return;
    }
    if (!lua_istable(L, fmap))
        raise_status(L, CLUA_BAD_RETURN, "", "layout must return an fmap table, got %s", luaL_typename(L, fmap));
    clua_get_field(L, rt, fmap, CLUA_KEY_EXT_TYPE);
    size_t type_length = 0;
    const char *type = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &type_length) : "";
    int interleaved = type_length == 11 && memcmp(type, "interleaved", 11) == 0;
    if (!interleaved && !(type_length == 6 && memcmp(type, "simple", 6) == 0))
        raise_bad_value(L, top, "ext_type", "expected \"simple\" or \"interleaved\", got %s",
                        lua_type(L, -1) == LUA_TSTRING ? type : luaL_typename(L, -1));
    lua_pop(L, 1);
    int extents = read_table(L, rt, fmap, top, CLUA_KEY_EXTENTS);
    lua_Integer count = sequence_length(L, extents, top, "extents");
    clua_push_result_integer(L, rt, interleaved ? CLUA_EXT_INTERLEAVED : CLUA_EXT_SIMPLE);
    clua_push_result_integer(L, rt, count);
    for (lua_Integer i = 0; i < count; i++) {
        field_ref at = {i, -1};
        int extent = read_entry(L, extents, at);
        if (!interleaved) {
            flatten_range(L, rt, extent, at);
        } else {
            int strips = read_table(L, rt, extent, at, CLUA_KEY_STRIPS);
            lua_Integer nstrips = sequence_length(L, strips, at, "strips");
            int given = clua_get_field(L, rt, extent, CLUA_KEY_NSTRIPS) != LUA_TNIL;
            lua_pop(L, 1);
            if (given && read_integer(L, rt, extent, at, CLUA_KEY_NSTRIPS, INT64_MAX) != nstrips)
                raise_bad_value(L, at, "nstrips", "does not match the %I strips given", nstrips);
            clua_push_result_integer(L, rt, nstrips);
            clua_push_result_integer(L, rt, read_integer(L, rt, extent, at, CLUA_KEY_CHUNK_SIZE, INT64_MAX));
            clua_push_result_integer(L, rt, read_integer(L, rt, extent, at, CLUA_KEY_NBYTES, INT64_MAX));
            for (lua_Integer s = 0; s < nstrips; s++) {
                field_ref strip_at = {i, s};
                int strip = read_entry(L, strips, strip_at);
                flatten_range(L, rt, strip, strip_at);
                lua_settop(L, strip - 1);
            }
        }
        lua_settop(L, extent - 1);
    }
}

static void read_placement(lua_State *L, clua_runtime *rt, int first) {
    rt->integer_count = 0;
    const char *decision = lua_type(L, first) == LUA_TSTRING ? lua_tostring(L, first) : NULL;
    if (decision != NULL && strcmp(decision, "dax") == 0) {
        clua_push_result_integer(L, rt, 0);
        clua_set_result_string(L, rt, "", 0);
        return;
    }
    if (decision == NULL || strcmp(decision, "passthrough") != 0)
        raise_status(L, CLUA_BAD_RETURN, "", "placement must return \"dax\" or \"passthrough\", got %s",
                     decision ? decision : luaL_typename(L, first));
    size_t length = 0;
    const char *backing = lua_type(L, first + 1) == LUA_TSTRING ? lua_tolstring(L, first + 1, &length) : NULL;
    if (backing == NULL || length == 0)
        raise_status(L, CLUA_BAD_RETURN, "", "placement \"passthrough\" needs a backing path as second result, got %s",
                     luaL_typename(L, first + 1));
    clua_push_result_integer(L, rt, 1);
    clua_set_result_string(L, rt, backing, length);
}

void clua_push_file(lua_State *L, const clua_runtime *rt, const clua_file *file) {
    lua_createtable(L, 0, 5);
    int table = lua_gettop(L);
    clua_push_key(L, rt, CLUA_KEY_PATH);
    lua_pushlstring(L, file->path, file->path_length);
    lua_rawset(L, table);
    clua_set_integer(L, rt, table, CLUA_KEY_SIZE, file->size);
    clua_set_integer(L, rt, table, CLUA_KEY_UID, file->uid);
    clua_set_integer(L, rt, table, CLUA_KEY_GID, file->gid);
    clua_set_integer(L, rt, table, CLUA_KEY_MODE, file->mode);
}

void clua_push_range(lua_State *L, const clua_runtime *rt, clua_range range) {
    lua_createtable(L, 0, 3);
    int table = lua_gettop(L);
    clua_set_integer(L, rt, table, CLUA_KEY_DEV, range.device);
    clua_set_integer(L, rt, table, CLUA_KEY_OFFSET, range.offset);
    clua_set_integer(L, rt, table, CLUA_KEY_LENGTH, range.length);
}

/* Updates the `free` field of the host's device tables whose free space changed since the
   last call. */
void clua_refresh_free_bytes(lua_State *L, clua_runtime *rt) {
    if (rt->call_free_bytes == NULL) return;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->device_tables_ref);
    int tables = lua_gettop(L);
    for (int i = 0; i < rt->device_count; i++) {
        if (rt->published_free[i] == rt->call_free_bytes[i]) continue;
        lua_rawgeti(L, tables, i + 1);
        clua_set_integer(L, rt, tables + 1, CLUA_KEY_FREE, rt->call_free_bytes[i]);
        lua_pop(L, 1);
        rt->published_free[i] = rt->call_free_bytes[i];
    }
    lua_settop(L, top);
}

static int call_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    clua_hook hook = rt->current_hook;
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->hook_refs[hook]);
    int arguments = 1;
    switch (hook) {
    case CLUA_HOOK_LAYOUT:
        clua_push_file(L, rt, rt->call_file);
        lua_rawgeti(L, LUA_REGISTRYINDEX, rt->devices_ref);
        clua_refresh_free_bytes(L, rt);
        arguments = 2;
        break;
    case CLUA_HOOK_PLACEMENT:
    case CLUA_HOOK_ON_RELEASE:
        clua_push_file(L, rt, rt->call_file);
        break;
    default:
        lua_pushinteger(L, rt->call_device_index);
        lua_rawgeti(L, LUA_REGISTRYINDEX, rt->devices_ref);
        arguments = 2;
        break;
    }
    lua_call(L, arguments, 2);
    switch (hook) {
    case CLUA_HOOK_LAYOUT:
        clua_flatten_layout(L, rt, 1);
        break;
    case CLUA_HOOK_PLACEMENT:
        read_placement(L, rt, 1);
        break;
    case CLUA_HOOK_ON_RELEASE:
        if (!lua_isboolean(L, 1))
            raise_status(L, CLUA_BAD_RETURN, "", "on_release must return a boolean, got %s", luaL_typename(L, 1));
        rt->integer_count = 0;
        clua_push_result_integer(L, rt, lua_toboolean(L, 1));
        break;
    default: {
        size_t length = 0;
        const char *path = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &length) : NULL;
        if (path == NULL || length == 0)
            raise_status(L, CLUA_BAD_RETURN, "", "resolve_device must return a device path, got %s", luaL_typename(L, 1));
        if (length > CLUA_MAX_DEVICE_PATH)
            raise_status(L, CLUA_BAD_RETURN, "", "resolve_device returned a path of %I bytes; the kernel takes at most %d",
                         (lua_Integer)length, CLUA_MAX_DEVICE_PATH);
        clua_set_result_string(L, rt, path, length);
        break;
    }
    }
    return 0;
}

clua_status clua_call(clua_runtime *rt, clua_hook hook, const clua_file *file, int64_t device_index,
                      const int64_t *free_bytes) {
    rt->allocation_count = 0;
    if (rt->hook_refs[hook] == LUA_NOREF) {
        rt->failure.status = CLUA_MISSING_HOOK;
        rt->failure.line = 0;
        rt->failure.source[0] = '\0';
        rt->failure.field[0] = '\0';
        snprintf(rt->failure.message, sizeof rt->failure.message, "the policy defines no %s function", clua_hook_names[hook]);
        return CLUA_MISSING_HOOK;
    }
    rt->current_hook = hook;
    rt->call_file = file;
    rt->call_device_index = device_index;
    rt->call_free_bytes = free_bytes;
    clua_status status = clua_protected(rt, call_body, NULL);
    rt->call_file = NULL;
    rt->call_free_bytes = NULL;
    rt->current_hook = CLUA_HOOK_COUNT;
    return status;
}

const int64_t *clua_result_integers(const clua_runtime *rt, size_t *count) {
    *count = rt->integer_count;
    return rt->integers;
}

const clua_range *clua_layout_allocations(const clua_runtime *rt, size_t *count) {
    *count = rt->allocation_count;
    return rt->allocations;
}

const char *clua_result_string(const clua_runtime *rt, size_t *length) {
    *length = rt->string_length;
    return rt->string ? rt->string : "";
}

typedef struct load_request {
    const char *text;
    size_t length;
    const char *chunkname;
} load_request;

/* Records each hook the loaded chunk defined as a global function, with where it starts. */
static void record_hooks(lua_State *L, clua_runtime *rt) {
    for (int hook = 0; hook < CLUA_HOOK_COUNT; hook++) {
        int type = lua_getglobal(L, clua_hook_names[hook]);
        if (type == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        if (type != LUA_TFUNCTION)
            raise_status(L, CLUA_BAD_RETURN, clua_hook_names[hook], "hook must be a function, got %s", lua_typename(L, type));
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        rt->hook_lines[hook] = ar.linedefined > 0 ? ar.linedefined : 0;
        clua_copy_text(rt->hook_sources[hook], sizeof rt->hook_sources[hook], ar.short_src, strlen(ar.short_src));
        rt->hook_refs[hook] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (rt->hook_refs[CLUA_HOOK_LAYOUT] == LUA_NOREF)
        raise_status(L, CLUA_MISSING_HOOK, "", "the policy defines no layout(file, devices) function");
}

/* Edit distance between `a` and `b`, ignoring case; at most `limit + 1` (as soon as it is known
   to be larger). Names longer than 40 bytes are never close. */
static size_t name_distance(const char *a, size_t a_length, const char *b, size_t limit) {
    size_t b_length = strlen(b);
    if (a_length > 40 || b_length > 40) return limit + 1;
    size_t row[41];
    for (size_t j = 0; j <= b_length; j++) row[j] = j;
    for (size_t i = 1; i <= a_length; i++) {
        size_t diagonal = row[0], smallest = row[0] = i;
        for (size_t j = 1; j <= b_length; j++) {
            size_t above = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diagonal + (same ? 0 : 1);
            if (above + 1 < best) best = above + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
            if (best < smallest) smallest = best;
        }
        if (smallest > limit) return limit + 1;
    }
    return row[b_length];
}

/* Warns about each global function whose name is a hook's name with one letter wrong, missing
   or extra, ignoring case (`on_relase`, `Layout`): the host would never call it, and nothing
   else would say so. */
static void warn_about_near_hook_names(lua_State *L, clua_runtime *rt) {
    lua_pushglobaltable(L);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        size_t length = 0;
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &length) : NULL;
        if (name != NULL && lua_type(L, -1) == LUA_TFUNCTION) {
            for (int hook = 0; hook < CLUA_HOOK_COUNT; hook++) {
                const char *hook_name = clua_hook_names[hook];
                if (strcmp(name, hook_name) == 0 || name_distance(name, length, hook_name, 1) > 1) continue;
                char message[256];
                int written = snprintf(message, sizeof message,
                                       "the policy defines %s, which is not a hook and is never called: did you mean %s?",
                                       name, hook_name);
                if (written > 0) rt->host.log(rt->host.context, CLUA_LOG_LOAD_WARNING, message, strlen(message));
                break;
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

static int load_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    load_request *request = lua_touserdata(L, 1);
    if (luaL_loadbufferx(L, request->text, request->length, request->chunkname, "t") != LUA_OK) {
        rt->pending_status = CLUA_SYNTAX;
        return lua_error(L);
    }
    lua_call(L, 0, 0);
    record_hooks(L, rt);
    warn_about_near_hook_names(L, rt);
    return 0;
}

clua_status clua_load_policy(clua_runtime *rt, const char *text, size_t length, const char *chunkname) {
    load_request request = {text, length, chunkname};
    rt->current_hook = CLUA_HOOK_COUNT;
    return clua_protected(rt, load_body, &request);
}

typedef struct device_request {
    const clua_device *devices;
    int count;
} device_request;

static int devices_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    device_request *request = lua_touserdata(L, 1);
    lua_createtable(L, request->count, 0);
    for (int i = 0; i < request->count; i++) {
        const clua_device *device = &request->devices[i];
        lua_createtable(L, 0, 6);
        int table = lua_gettop(L);
        clua_set_integer(L, rt, table, CLUA_KEY_INDEX, device->index);
        clua_push_key(L, rt, CLUA_KEY_PATH);
        lua_pushstring(L, device->path);
        lua_rawset(L, table);
        clua_set_integer(L, rt, table, CLUA_KEY_SIZE, device->size);
        clua_set_integer(L, rt, table, CLUA_KEY_FREE, device->free_bytes);
        clua_set_integer(L, rt, table, CLUA_KEY_ALIGNMENT, device->alignment);
        if (device->numa_node >= 0) clua_set_integer(L, rt, table, CLUA_KEY_NUMA_NODE, device->numa_node);
        rt->device_tables[i] = lua_topointer(L, table);
        lua_rawseti(L, -2, i + 1);
    }
    lua_createtable(L, request->count, 0);
    for (int i = 1; i <= request->count; i++) {
        lua_rawgeti(L, -2, i);
        lua_rawseti(L, -2, i);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, rt->device_tables_ref);
    rt->device_tables_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    /* The hooks' device table is also the global `devices`, so that the policy's top-level
       code can check its configuration against the devices while it loads. */
    lua_pushvalue(L, -1);
    lua_setglobal(L, "devices");
    luaL_unref(L, LUA_REGISTRYINDEX, rt->devices_ref);
    rt->devices_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

clua_status clua_set_devices(clua_runtime *rt, const clua_device *devices, int count) {
    rt->device_count = 0; /* until the buffers and tables for `count` exist */
    int64_t *published = realloc(rt->published_free, (size_t)(count > 0 ? count : 1) * sizeof *published);
    if (published == NULL) return CLUA_MEMORY;
    rt->published_free = published;
    const void **tables = realloc(rt->device_tables, (size_t)(count > 0 ? count : 1) * sizeof *tables);
    if (tables == NULL) return CLUA_MEMORY;
    rt->device_tables = tables;
    for (int i = 0; i < count; i++) published[i] = devices[i].free_bytes;
    device_request request = {devices, count};
    clua_status status = clua_protected(rt, devices_body, &request);
    if (status == CLUA_OK) rt->device_count = count;
    return status;
}

typedef struct config_request {
    const char *const *keys;
    const char *const *values;
    int count;
} config_request;

static int config_body(lua_State *L) {
    config_request *request = lua_touserdata(L, 1);
    lua_createtable(L, 0, request->count);
    for (int i = 0; i < request->count; i++) {
        lua_pushstring(L, request->values[i]);
        lua_setfield(L, -2, request->keys[i]);
    }
    lua_setglobal(L, "config");
    return 0;
}

clua_status clua_set_config(clua_runtime *rt, const char *const *keys, const char *const *values, int count) {
    config_request request = {keys, values, count};
    return clua_protected(rt, config_body, &request);
}
