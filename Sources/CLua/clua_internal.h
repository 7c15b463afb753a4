#ifndef CLUA_INTERNAL_H
#define CLUA_INTERNAL_H

#include "CLua.h"
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* Instructions between two runs of the budget hook. */
#define CLUA_HOOK_INTERVAL 1000

/* Field names the host reads or writes on every call. They are interned once and kept in
   the registry, so a call pushes each with one array lookup instead of hashing its text. */
typedef enum clua_key {
    CLUA_KEY_PATH, CLUA_KEY_SIZE, CLUA_KEY_UID, CLUA_KEY_GID, CLUA_KEY_MODE,
    CLUA_KEY_INDEX, CLUA_KEY_FREE, CLUA_KEY_ALIGNMENT, CLUA_KEY_NUMA_NODE,
    CLUA_KEY_DEV, CLUA_KEY_OFFSET, CLUA_KEY_LENGTH,
    CLUA_KEY_EXT_TYPE, CLUA_KEY_EXTENTS, CLUA_KEY_NSTRIPS, CLUA_KEY_CHUNK_SIZE, CLUA_KEY_NBYTES, CLUA_KEY_STRIPS,
    CLUA_KEY_COUNT
} clua_key;

extern const char *const clua_key_names[CLUA_KEY_COUNT];

struct clua_runtime {
    lua_State *L;
    clua_host host;

    /* Memory accounting: allocations past `memory_cap` trip the limit; none may pass `hard_cap`
       (the slack lets the error itself be raised and reported with its line). */
    size_t memory_used;
    size_t memory_cap;
    size_t hard_cap;

    int64_t instruction_budget;
    int64_t instructions_left;
    /* Wall-clock limit of one call, and when the current call must end (CLOCK_MONOTONIC ns). */
    int64_t time_limit_ns;
    int64_t deadline_ns;

    /* Per-call state, reset by clua_call. */
    int in_call;
    int budget_tripped;
    int memory_tripped;
    int time_tripped;
    /* An allocation passed the cap: the hook collects at the next instruction (settle_memory). */
    int collection_pending;
    clua_status pending_status; /* set just before raising a host-detected failure */
    clua_hook current_hook;
    const clua_file *call_file;
    int64_t call_device_index;
    const int64_t *call_free_bytes;
    char no_space_message[256];
    /* What alloc handed out during the current (or last) layout call. */
    clua_range *allocations;
    size_t allocation_count;
    size_t allocation_capacity;

    /* Registry references. */
    int key_refs[CLUA_KEY_COUNT];
    int devices_ref;
    /* The host's device tables, kept apart from the list the script sees (which it may
       change) so they stay alive: a table at one of these addresses is that device's. */
    int device_tables_ref;
    const void **device_tables;
    int hook_refs[CLUA_HOOK_COUNT];
    int hook_lines[CLUA_HOOK_COUNT];
    char hook_sources[CLUA_HOOK_COUNT][128];
    int loaded_modules_ref;
    int device_count;
    int64_t *published_free;

    clua_failure failure;

    /* Results of the last successful call. */
    int64_t *integers;
    size_t integer_count;
    size_t integer_capacity;
    char *string;
    size_t string_length;
};

static inline clua_runtime *clua_runtime_of(lua_State *L) {
    return *(clua_runtime **)lua_getextraspace(L);
}

/* Whether a limit has tripped in the current call: the script is being stopped. */
static inline int clua_stopping(const clua_runtime *rt) {
    return rt->budget_tripped || rt->memory_tripped || rt->time_tripped;
}

/* Pushes the interned field name `key`. */
static inline void clua_push_key(lua_State *L, const clua_runtime *rt, clua_key key) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->key_refs[key]);
}

/* table[key] = value, raw (`table` is an absolute stack index). */
static inline void clua_set_integer(lua_State *L, const clua_runtime *rt, int table, clua_key key, lua_Integer value) {
    clua_push_key(L, rt, key);
    lua_pushinteger(L, value);
    lua_rawset(L, table);
}

/* Pushes table[key], raw (`table` is an absolute stack index); returns its type. */
static inline int clua_get_field(lua_State *L, const clua_runtime *rt, int table, clua_key key) {
    clua_push_key(L, rt, key);
    return lua_rawget(L, table);
}

/* The index of the host's device table at `table` (lua_topointer), or -1 when it is not one. */
static inline lua_Integer clua_host_device_index(const clua_runtime *rt, const void *table) {
    for (int i = 0; i < rt->device_count; i++)
        if (rt->device_tables[i] == table) return i;
    return -1;
}
/* Interns the field names (clua_key) into the registry. */
void clua_intern_keys(lua_State *L, clua_runtime *rt);

/* Raises a Lua error with `message` and no position prefix (the message handler adds it). */
int clua_raise(lua_State *L, const char *format, ...);

/* Installs the sandbox globals: allowed libraries, host functions, `config`. */
void clua_open_sandbox(lua_State *L);

/* Entry into Lua under the message handler; fills runtime->failure on error. */
clua_status clua_protected(clua_runtime *runtime, lua_CFunction body, void *argument);

/* Counts `instructions` against the call's budget; raises once the budget or the memory
   limit has tripped, and on every later call, so a script's pcall cannot swallow the stop. */
void clua_charge(lua_State *L, int64_t instructions);

/* The budget hook: charges CLUA_HOOK_INTERVAL instructions. */
void clua_budget_hook(lua_State *L, lua_Debug *ar);

/* Records a failed call's memory error in rt->failure: Lua runs no message handler for
   one, so the message is written here and the line is the one the allocator kept. */
void clua_note_memory_failure(clua_runtime *rt);

/* The hooks' global names, indexed by clua_hook. */
extern const char *const clua_hook_names[CLUA_HOOK_COUNT];

/* The message handler every protected entry uses: fills runtime->failure. */
int clua_message_handler(lua_State *L);

/* Result buffers of the current call (raise on host memory exhaustion). */
void clua_push_result_integer(lua_State *L, clua_runtime *rt, int64_t value);
void clua_set_result_string(lua_State *L, clua_runtime *rt, const char *text, size_t length);

/* Flattens the fmap table at stack index `fmap` into the integer results (see clua_call). */
void clua_flatten_layout(lua_State *L, clua_runtime *rt, int fmap);

/* Pushes a fresh file facts table. */
void clua_push_file(lua_State *L, const clua_runtime *rt, const clua_file *file);

/* Pushes a fresh { dev =, offset =, length = } table. */
void clua_push_range(lua_State *L, const clua_runtime *rt, clua_range range);

/* An fmap of one interleaved extent built by the host (alloc_interleaved): a userdata. */
typedef struct clua_built_fmap {
    lua_Integer nstrips, chunk_size, nbytes;
    clua_range strips[];
} clua_built_fmap;
/* Pushes a new built fmap with room for `nstrips` strips, which the caller fills. */
clua_built_fmap *clua_new_built_fmap(lua_State *L, lua_Integer nstrips, lua_Integer chunk_size, lua_Integer nbytes);
/* The built fmap at stack index `index`, or NULL when the value is not one. */
clua_built_fmap *clua_to_built_fmap(lua_State *L, int index);
/* Creates the built fmaps' metatable (once per state). */
void clua_register_built_fmap(lua_State *L);
/* Updates the `free` field of the host's device tables from rt->call_free_bytes. */
void clua_refresh_free_bytes(lua_State *L, clua_runtime *rt);

/* Copies `length` bytes of `text` into a C buffer of `size`, always NUL terminated. */
void clua_copy_text(char *buffer, size_t size, const char *text, size_t length);

#endif
