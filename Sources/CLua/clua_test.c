#include "clua_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The assertion helpers, in Lua: error(message, 2) places a failure on the test's line. */
static const char test_prelude[] =
    "local function describe(value, depth)\n"
    "  if type(value) == 'string' then return string.format('%q', value) end\n"
    "  if type(value) ~= 'table' then return tostring(value) end\n"
    "  depth = depth or 0\n"
    "  if depth > 3 then return '{...}' end\n"
    "  local keys = {}\n"
    "  for key in next, value do keys[#keys + 1] = key end\n"
    "  table.sort(keys, function(a, b)\n"
    "    if math.type(a) == 'integer' and math.type(b) == 'integer' then return a < b end\n"
    "    if math.type(a) == 'integer' then return true end\n"
    "    if math.type(b) == 'integer' then return false end\n"
    "    return tostring(a) < tostring(b)\n"
    "  end)\n"
    "  local parts = {}\n"
    "  for i, key in ipairs(keys) do\n"
    "    local item = describe(rawget(value, key), depth + 1)\n"
    "    if key ~= i then item = (type(key) == 'string' and key or '[' .. describe(key) .. ']') .. ' = ' .. item end\n"
    "    parts[#parts + 1] = item\n"
    "  end\n"
    "  return '{ ' .. table.concat(parts, ', ') .. ' }'\n"
    "end\n"
    "local function equal(a, b, depth)\n"
    "  if a == b then return true end\n"
    "  if type(a) ~= 'table' or type(b) ~= 'table' or depth > 16 then return false end\n"
    "  for key, value in next, a do if not equal(value, rawget(b, key), depth + 1) then return false end end\n"
    "  for key in next, b do if rawget(a, key) == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function prefix(message) return message and (tostring(message) .. ': ') or '' end\n"
    "function expect(condition, message)\n"
    "  if not condition then error(message and tostring(message) or 'expectation failed', 2) end\n"
    "  return condition\n"
    "end\n"
    "function expect_eq(actual, expected, message)\n"
    "  if not equal(actual, expected, 0) then\n"
    "    error(prefix(message) .. 'expected ' .. describe(expected) .. ', got ' .. describe(actual), 2)\n"
    "  end\n"
    "  return actual\n"
    "end\n"
    "function expect_error(fn, text, ...)\n"
    "  local ok, err = pcall(fn, ...)\n"
    "  if ok then error('expected an error' .. (text and (' containing ' .. describe(text)) or '') .. ', but the call succeeded', 2) end\n"
    "  err = tostring(err)\n"
    "  if text and not err:find(text, 1, true) then\n"
    "    error('expected an error containing ' .. describe(text) .. ', got ' .. describe(err), 2)\n"
    "  end\n"
    "  return err\n"
    "end\n";

static const char *const status_names[] = {
    "ok", "syntax", "runtime", "instructionBudget", "memory", "badReturn", "allocation", "missingHook", "timeLimit"};

/* Reads an optional integer field of the file table at index 1. */
static int64_t file_integer(lua_State *L, const char *key, int64_t fallback) {
    lua_getfield(L, 1, key);
    int isnum = 0;
    lua_Integer value = lua_tointegerx(L, -1, &isnum);
    int absent = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (absent) return fallback;
    if (!isnum || value < 0) return clua_raise(L, "layout_of: file.%s must be a non-negative integer", key), 0;
    return value;
}

/* Under a nested lua_pcall: calls the layout hook with the file table (index 1) and the
   device table, and flattens what it returns. */
static int layout_call_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    lua_settop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->hook_refs[CLUA_HOOK_LAYOUT]);
    lua_pushvalue(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->devices_ref);
    clua_refresh_free_bytes(L, rt);
    lua_call(L, 2, 1);
    clua_flatten_layout(L, rt, lua_gettop(L));
    return 0;
}

/* Pushes the fmap the integer results describe, in the JSON shape of famfs-policy eval. */
static void push_fmap(lua_State *L, clua_runtime *rt, int64_t file_size) {
    const int64_t *v = rt->integers;
    size_t at = 2;
    int interleaved = v[0] == CLUA_EXT_INTERLEAVED;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, file_size);
    lua_setfield(L, -2, "file_size");
    lua_pushstring(L, interleaved ? "interleaved" : "simple");
    lua_setfield(L, -2, "ext_type");
    lua_createtable(L, (int)v[1], 0);
    for (int64_t i = 0; i < v[1]; i++) {
        if (!interleaved) {
            clua_push_range(L, rt, (clua_range){v[at], v[at + 1], v[at + 2]});
            at += 3;
        } else {
            int64_t nstrips = v[at];
            lua_createtable(L, 0, 4);
            lua_pushinteger(L, nstrips);
            lua_setfield(L, -2, "nstrips");
            lua_pushinteger(L, v[at + 1]);
            lua_setfield(L, -2, "chunk_size");
            lua_pushinteger(L, v[at + 2]);
            lua_setfield(L, -2, "nbytes");
            at += 3;
            lua_createtable(L, (int)nstrips, 0);
            for (int64_t s = 0; s < nstrips; s++) {
                clua_push_range(L, rt, (clua_range){v[at], v[at + 1], v[at + 2]});
                at += 3;
                lua_rawseti(L, -2, s + 1);
            }
            lua_setfield(L, -2, "strips");
        }
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "extents");
}

/* Pushes nil, "source:line: layout: message", kind; returns 3 (layout_of's failure). */
static int layout_failure(lua_State *L, clua_runtime *rt, const char *source, int line, const char *message,
                          const char *kind) {
    lua_pushnil(L);
    if (line > 0) lua_pushfstring(L, "%s:%d: layout: %s", source, line, message);
    else lua_pushfstring(L, "%s: layout: %s", source, message);
    lua_pushstring(L, kind);
    rt->pending_status = CLUA_OK;
    rt->no_space_message[0] = '\0';
    return 3;
}

/* layout_of(file) -> fmap | nil, message, kind. Calls the policy's layout as the daemon
   would: allocations are recorded by the host, the fmap is validated, memory it does not
   use is released (all of it when the call fails). Allocations it keeps stay allocated for
   the rest of the test. */
static int test_layout_of(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    if (rt->host.test_layout_begin == NULL || rt->host.test_layout_end == NULL)
        return clua_raise(L, "layout_of: only available in policy tests");
    if (rt->current_hook != CLUA_HOOK_COUNT) return clua_raise(L, "layout_of: not available inside a hook");
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_getfield(L, 1, "path");
    size_t path_length = 5;
    const char *path = lua_isnil(L, -1) ? "/test" : lua_tolstring(L, -1, &path_length);
    if (path == NULL) return clua_raise(L, "layout_of: file.path must be a string");
    clua_file file = {path, path_length, file_integer(L, "size", 0), file_integer(L, "uid", 0),
                      file_integer(L, "gid", 0), file_integer(L, "mode", 0100644)};
    clua_push_file(L, rt, &file);
    int file_table = lua_gettop(L);

    int64_t *free_bytes = lua_newuserdatauv(L, (size_t)(rt->device_count > 0 ? rt->device_count : 1) * sizeof *free_bytes, 0);
    char error[512] = "";
    rt->host.test_layout_begin(rt->host.context, free_bytes, rt->device_count);
    rt->call_free_bytes = free_bytes;
    rt->current_hook = CLUA_HOOK_LAYOUT;
    rt->allocation_count = 0;
    rt->pending_status = CLUA_OK;
    rt->no_space_message[0] = '\0';
    lua_pushcfunction(L, clua_message_handler);
    int handler = lua_gettop(L);
    lua_pushcfunction(L, layout_call_body);
    lua_pushvalue(L, file_table);
    int status = lua_pcall(L, 1, 0, handler);
    rt->current_hook = CLUA_HOOK_COUNT;
    rt->call_free_bytes = NULL;

    if (status != LUA_OK) {
        rt->host.test_layout_end(rt->host.context, NULL, 0, rt->allocations, rt->allocation_count, file.size,
                                 error, sizeof error);
        clua_failure *failure = &rt->failure;
        if (status == LUA_ERRMEM) clua_note_memory_failure(rt);
        if (clua_stopping(rt) || status == LUA_ERRMEM) {
            /* A stop is the test's failure too; keep the line where it happened. */
            if (failure->line > 0) lua_pushfstring(L, "%s:%d: %s", failure->source, failure->line, failure->message);
            else lua_pushstring(L, failure->message);
            return lua_error(L);
        }
        if (rt->pending_status != CLUA_OK || failure->line == 0)
            return layout_failure(L, rt, rt->hook_sources[CLUA_HOOK_LAYOUT], rt->hook_lines[CLUA_HOOK_LAYOUT],
                                  failure->message, status_names[failure->status]);
        return layout_failure(L, rt, failure->source, failure->line, failure->message, status_names[failure->status]);
    }
    if (rt->host.test_layout_end(rt->host.context, rt->integers, rt->integer_count, rt->allocations,
                                 rt->allocation_count, file.size, error, sizeof error) != CLUA_HOST_OK) {
        lua_pushfstring(L, "%s", error);
        const char *message = lua_tostring(L, -1);
        return layout_failure(L, rt, rt->hook_sources[CLUA_HOOK_LAYOUT], rt->hook_lines[CLUA_HOOK_LAYOUT], message,
                              "invalidFmap");
    }
    push_fmap(L, rt, file.size);
    return 1;
}

static int open_helpers_body(lua_State *L) {
    if (luaL_loadbufferx(L, test_prelude, sizeof test_prelude - 1, "=test helpers", "t") != LUA_OK) return lua_error(L);
    lua_call(L, 0, 0);
    lua_pushcfunction(L, test_layout_of);
    lua_setglobal(L, "layout_of");
    return 0;
}

clua_status clua_open_test_helpers(clua_runtime *rt) {
    rt->current_hook = CLUA_HOOK_COUNT;
    return clua_protected(rt, open_helpers_body, NULL);
}

typedef struct chunk_request {
    const char *text;
    size_t length;
    const char *chunkname;
} chunk_request;

static int run_chunk_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    chunk_request *request = lua_touserdata(L, 1);
    if (luaL_loadbufferx(L, request->text, request->length, request->chunkname, "t") != LUA_OK) {
        rt->pending_status = CLUA_SYNTAX;
        return lua_error(L);
    }
    lua_call(L, 0, 0);
    return 0;
}

clua_status clua_run_chunk(clua_runtime *rt, const char *text, size_t length, const char *chunkname) {
    chunk_request request = {text, length, chunkname};
    rt->current_hook = CLUA_HOOK_COUNT;
    return clua_protected(rt, run_chunk_body, &request);
}

typedef struct function_entry {
    const char *name;
    const char *source;
    int line;
} function_entry;

static int compare_entries(const void *a, const void *b) {
    const function_entry *x = a, *y = b;
    int by_source = strcmp(x->source, y->source);
    if (by_source != 0) return by_source;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Sources are interned: kept in a table so their text outlives the debug records. */
static int list_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    const char *prefix = lua_touserdata(L, 1);
    size_t prefix_length = strlen(prefix);
    lua_settop(L, 0);
    lua_newtable(L); /* 1: sources by text, keeping the strings alive */
    lua_pushglobaltable(L); /* 2 */
    size_t count = 0;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION
            && strncmp(lua_tostring(L, -2), prefix, prefix_length) == 0)
            count++;
        lua_pop(L, 1);
    }
    function_entry *entries = lua_newuserdatauv(L, (count > 0 ? count : 1) * sizeof *entries, 0); /* 3 */
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0 && n < count) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION
            && strncmp(lua_tostring(L, -2), prefix, prefix_length) == 0) {
            lua_Debug ar;
            lua_pushvalue(L, -1);
            lua_getinfo(L, ">S", &ar);
            lua_pushstring(L, ar.short_src);
            lua_pushvalue(L, -1);
            lua_rawset(L, 1);
            lua_pushstring(L, ar.short_src);
            lua_rawget(L, 1);
            entries[n].source = lua_tostring(L, -1);
            lua_pop(L, 1);
            entries[n].name = lua_tostring(L, -2);
            entries[n].line = ar.linedefined;
            n++;
        }
        lua_pop(L, 1);
    }
    qsort(entries, n, sizeof *entries, compare_entries);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    rt->integer_count = 0;
    for (size_t i = 0; i < n; i++) {
        luaL_addstring(&buffer, entries[i].name);
        luaL_addchar(&buffer, '\0');
        luaL_addstring(&buffer, entries[i].source);
        luaL_addchar(&buffer, '\0');
        clua_push_result_integer(L, rt, entries[i].line);
    }
    luaL_pushresult(&buffer);
    size_t length = 0;
    const char *names = lua_tolstring(L, -1, &length);
    clua_set_result_string(L, rt, names, length);
    return 0;
}

clua_status clua_list_functions(clua_runtime *rt, const char *prefix) {
    rt->current_hook = CLUA_HOOK_COUNT;
    return clua_protected(rt, list_body, (void *)prefix);
}

static int call_function_body(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    const char *name = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (lua_getglobal(L, name) != LUA_TFUNCTION) return clua_raise(L, "%s is not a function", name);
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->devices_ref);
    lua_call(L, 1, 0);
    return 0;
}

clua_status clua_call_function(clua_runtime *rt, const char *name) {
    rt->current_hook = CLUA_HOOK_COUNT;
    return clua_protected(rt, call_function_body, (void *)name);
}
