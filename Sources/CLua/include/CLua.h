#ifndef CLUA_H
#define CLUA_H

/*
 * The only code that touches Lua. Swift never sees a lua_State: every entry into Lua
 * happens here under lua_pcall, and host functions written in Swift receive plain C
 * values and report failure with a status, so a Lua error never longjmps across Swift.
 * One clua_runtime owns one lua_State and must be used by one thread at a time.
 */

#include <stddef.h>
#include <stdint.h>

/* What a Swift host callback reports; CLUA_HOST_OK or a failure whose message is in `error`. */
typedef enum clua_host_status {
    CLUA_HOST_OK = 0,
    /* The allocator has no room (the call fails with CLUA_ALLOCATION unless the script recovers). */
    CLUA_HOST_NO_SPACE = 1,
    /* The script passed an unusable argument; raised as a runtime error. */
    CLUA_HOST_BAD_ARGUMENT = 2
} clua_host_status;

/* A range of device memory, as alloc hands it out. */
typedef struct clua_range {
    int64_t device;
    int64_t offset;
    int64_t length;
} clua_range;

/* Host services implemented in Swift. `context` is passed back unchanged. */
typedef struct clua_host {
    void *context;
    /* Allocates `bytes` on `device` aligned to `alignment` (0: the device's own). */
    clua_host_status (*alloc)(void *context, int64_t device, int64_t bytes, int64_t alignment,
                              int64_t *offset, int64_t *length, char *error, size_t error_size);
    /* Logs one message; level 0 debug, 1 info, 2 warning, 3 error, or CLUA_LOG_LOAD_WARNING:
       a warning about the policy's text, the same for every state loaded from it. */
    void (*log)(void *context, int level, const char *message, size_t length);
    /* Reads module `name` from the policy folder into a malloc'd buffer (freed by the caller)
       and names its chunk (e.g. "@lib/famfs.lua"). */
    clua_host_status (*read_module)(void *context, const char *name, char **text, size_t *text_length,
                                    char *chunkname, size_t chunkname_size, char *error, size_t error_size);
    /* Policy tests only (NULL otherwise): a test's layout_of call begins. The host points
       alloc at the test's allocator and writes each device's free bytes (`count` of them). */
    clua_host_status (*test_layout_begin)(void *context, int64_t *free_bytes, int count);
    /* ... and ends. `allocations` is what alloc handed out during the call; `integers` is the
       flattened fmap (see clua_call), or NULL when the hook failed: the host then releases
       every allocation. Otherwise it validates the fmap, keeps what it uses, and on a refused
       fmap writes why to `error`. */
    clua_host_status (*test_layout_end)(void *context, const int64_t *integers, size_t count,
                                        const clua_range *allocations, size_t allocation_count, int64_t file_size,
                                        char *error, size_t error_size);
} clua_host;

/* How an entry into Lua ended. */
typedef enum clua_status {
    CLUA_OK = 0,
    CLUA_SYNTAX,
    CLUA_RUNTIME,
    CLUA_INSTRUCTION_BUDGET,
    CLUA_MEMORY,
    CLUA_BAD_RETURN,
    CLUA_ALLOCATION,
    CLUA_MISSING_HOOK,
    CLUA_TIME_LIMIT
} clua_status;

/* Why the last entry failed, with the innermost Lua location when one is known. */
typedef struct clua_failure {
    clua_status status;
    char message[1024];
    char source[128];   /* chunk name, e.g. "stripe.lua"; empty when unknown */
    int line;           /* 0 when unknown */
    char field[128];    /* the offending part of a return value, e.g. "extents[0].dev"; may be empty */
} clua_failure;

/* The `log` level of a warning about the policy's text (see clua_host). */
#define CLUA_LOG_LOAD_WARNING 4

/* The longest device path GET_DAXDEV can tell the kernel (its name field, NUL excluded). */
#define CLUA_MAX_DEVICE_PATH 255

/* The hooks a policy may define. */
typedef enum clua_hook {
    CLUA_HOOK_LAYOUT = 0,
    CLUA_HOOK_PLACEMENT = 1,
    CLUA_HOOK_ON_RELEASE = 2,
    CLUA_HOOK_RESOLVE_DEVICE = 3,
    CLUA_HOOK_COUNT = 4
} clua_hook;

/* Facts about one device, 0-based `index`; `numa_node` < 0 when unknown. */
typedef struct clua_device {
    int64_t index;
    const char *path;
    int64_t size;
    int64_t free_bytes;
    int64_t alignment;
    int64_t numa_node;
} clua_device;

/* Facts about one file. */
typedef struct clua_file {
    const char *path;
    size_t path_length;
    int64_t size;
    int64_t uid;
    int64_t gid;
    int64_t mode;
} clua_file;

/* Shape of the flattened layout result (see clua_result_integers). */
enum { CLUA_EXT_SIMPLE = 0, CLUA_EXT_INTERLEAVED = 1, CLUA_MAX_RETURNED_EXTENTS = 1024 };

typedef struct clua_runtime clua_runtime;

/* A fresh sandboxed state with a memory cap (bytes), a per-call instruction budget and a
   per-call time limit (nanoseconds of wall-clock time, checked with the budget).
   NULL only when the C heap itself is exhausted. */
clua_runtime *clua_open(size_t memory_cap, int64_t instruction_budget, int64_t time_limit_ns, clua_host host);
void clua_close(clua_runtime *runtime);

/* The failure of the last call that did not return CLUA_OK. */
const clua_failure *clua_last_failure(const clua_runtime *runtime);

/* Publishes the device table (built once, passed to every layout call) and the `config`
   table of string pairs. */
clua_status clua_set_devices(clua_runtime *runtime, const clua_device *devices, int count);
clua_status clua_set_config(clua_runtime *runtime, const char *const *keys, const char *const *values, int count);

/* Loads policy text (never bytecode) under the budget and records which hooks it defines;
   CLUA_MISSING_HOOK when it defines no `layout`. */
clua_status clua_load_policy(clua_runtime *runtime, const char *text, size_t length, const char *chunkname);

/* Whether the loaded policy defines `hook` as a function, and where (line 0 when unknown). */
int clua_has_hook(const clua_runtime *runtime, clua_hook hook);
int clua_hook_line(const clua_runtime *runtime, clua_hook hook);
const char *clua_hook_source(const clua_runtime *runtime, clua_hook hook);

/* Calls one hook. `file` is for layout, placement and on_release; `device_index` for
   resolve_device; `free_bytes` (one per device, may be NULL) refreshes each device's
   `free` field before a layout call. Results are read with clua_result_*:
   layout: integers = ext_type, nextents, then per simple extent dev, offset, length, or per
           interleaved extent nstrips, chunk_size, nbytes and nstrips × (dev, offset, length);
   placement: integers[0] = 0 dax / 1 passthrough, string = backing path;
   on_release: integers[0] = 0 / 1;  resolve_device: string = device path. */
clua_status clua_call(clua_runtime *runtime, clua_hook hook, const clua_file *file,
                      int64_t device_index, const int64_t *free_bytes);

const int64_t *clua_result_integers(const clua_runtime *runtime, size_t *count);
/* What alloc handed out during the last call, in order, whether the call succeeded or
   failed (the host releases what the fmap does not use). Valid until the next call. */
const clua_range *clua_layout_allocations(const clua_runtime *runtime, size_t *count);
const char *clua_result_string(const clua_runtime *runtime, size_t *length);

/* Policy tests (famfs-policy test). A test is a global function named test_*; it gets the
   device table as its argument and fails by raising an error. */

/* Installs the test helpers as globals: expect, expect_eq, expect_error and layout_of. */
clua_status clua_open_test_helpers(clua_runtime *runtime);

/* Runs another chunk of text (a test file) in the loaded state, under the budget. */
clua_status clua_run_chunk(clua_runtime *runtime, const char *text, size_t length, const char *chunkname);

/* Lists the global functions whose names start with `prefix`, ordered by source and line.
   Results: string = each function's name and then its source (chunk name), every one
   followed by a NUL; integers = each function's first line. */
clua_status clua_list_functions(clua_runtime *runtime, const char *prefix);

/* Calls the global function `name` with the device table as its one argument, under a
   fresh instruction budget. A raised error is the test's failure (clua_last_failure). */
clua_status clua_call_function(clua_runtime *runtime, const char *name);

/* Bytes the state holds now. */
size_t clua_memory_in_use(const clua_runtime *runtime);

#endif
