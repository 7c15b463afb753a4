#include "clua_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void clua_copy_text(char *buffer, size_t size, const char *text, size_t length) {
    if (size == 0) return;
    if (length >= size) length = size - 1;
    memcpy(buffer, text, length);
    buffer[length] = '\0';
}

int clua_raise(lua_State *L, const char *format, ...) {
    va_list args;
    va_start(args, format);
    lua_pushvfstring(L, format, args);
    va_end(args);
    return lua_error(L);
}

/* Records the innermost Lua line as the failure's location. Reads only CallInfo data, so it
   is safe inside the allocator as long as no stack is being moved (fresh blocks only). */
static void record_location(lua_State *L, clua_failure *failure) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            clua_copy_text(failure->source, sizeof failure->source, ar.short_src, strlen(ar.short_src));
            failure->line = ar.currentline;
            return;
        }
    }
}

/* Once a limit trips, the hook runs on every instruction and raises each time, so a
   script's own pcall cannot swallow the stop. */
static void trip(clua_runtime *rt) {
    lua_sethook(rt->L, clua_budget_hook, LUA_MASKCOUNT, 1);
}

static void trip_memory(clua_runtime *rt, int record) {
    rt->memory_tripped = 1;
    rt->failure.line = 0;
    rt->failure.source[0] = '\0';
    if (record) record_location(rt->L, &rt->failure);
    trip(rt);
}

/* Past the cap, an allocation still succeeds up to the hard cap, but the hook runs at the
   next instruction and collects the garbage first (see settle_memory): only what the script
   still holds counts against the cap. Past the hard cap, the limit trips at once. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    clua_runtime *rt = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        rt->memory_used -= old;
        return NULL;
    }
    size_t used = rt->memory_used - old + nsize;
    if (nsize > old && used > rt->memory_cap && rt->in_call) {
        if (!rt->memory_tripped && used > rt->hard_cap) trip_memory(rt, ptr == NULL);
        if (rt->memory_tripped) {
            if (used > rt->hard_cap) return NULL;
        } else if (!rt->collection_pending) {
            rt->collection_pending = 1;
            trip(rt);
        }
    }
    void *block = realloc(ptr, nsize);
    if (block != NULL) rt->memory_used = used;
    return block;
}

/* The hook's run after the cap was passed: a full collection, then the limit trips only
   if the script still holds more than the cap. */
static void settle_memory(lua_State *L, clua_runtime *rt) {
    rt->collection_pending = 0;
    lua_gc(L, LUA_GCCOLLECT);
    if (rt->memory_used > rt->memory_cap) trip_memory(rt, 1);
    else lua_sethook(L, clua_budget_hook, LUA_MASKCOUNT, CLUA_HOOK_INTERVAL);
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* The clock is read with the budget: a script's time goes into its VM instructions and
   the library calls between them, so a call that stays in one C function (a string
   pattern that backtracks) is not stopped until that function returns. */
void clua_charge(lua_State *L, int64_t instructions) {
    clua_runtime *rt = clua_runtime_of(L);
    if (!clua_stopping(rt)) {
        rt->instructions_left -= instructions;
        if (rt->instructions_left <= 0) rt->budget_tripped = 1;
        else if (monotonic_ns() > rt->deadline_ns) rt->time_tripped = 1;
        else return;
        trip(rt);
    }
    if (rt->memory_tripped)
        clua_raise(L, "memory limit of %I bytes exceeded", (lua_Integer)rt->memory_cap);
    if (rt->time_tripped)
        clua_raise(L, "time limit of %I ms exceeded", (lua_Integer)(rt->time_limit_ns / 1000000));
    clua_raise(L, "instruction budget of %I instructions exceeded", (lua_Integer)rt->instruction_budget);
}

void clua_budget_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    clua_runtime *rt = clua_runtime_of(L);
    /* A run brought forward by settle_memory is charged as a whole interval too, so a script
       that keeps crossing the cap still meets its budget and deadline. */
    if (rt->collection_pending && !rt->budget_tripped && !rt->time_tripped) settle_memory(L, rt);
    clua_charge(L, CLUA_HOOK_INTERVAL);
}

/* Turns any error value into text without calling back into Lua or allocating. */
static void describe_error_value(lua_State *L, clua_failure *failure) {
    char text[sizeof failure->message];
    switch (lua_type(L, 1)) {
    case LUA_TSTRING: {
        size_t length;
        const char *message = lua_tolstring(L, 1, &length);
        clua_copy_text(failure->message, sizeof failure->message, message, length);
        return;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, 1)) snprintf(text, sizeof text, "error object is a number (%lld)", (long long)lua_tointeger(L, 1));
        else snprintf(text, sizeof text, "error object is a number (%.14g)", (double)lua_tonumber(L, 1));
        break;
    case LUA_TBOOLEAN:
        snprintf(text, sizeof text, "error object is a boolean (%s)", lua_toboolean(L, 1) ? "true" : "false");
        break;
    case LUA_TNIL:
    case LUA_TNONE:
        snprintf(text, sizeof text, "error object is nil");
        break;
    default:
        snprintf(text, sizeof text, "error object is a %s value", lua_typename(L, lua_type(L, 1)));
        break;
    }
    clua_copy_text(failure->message, sizeof failure->message, text, strlen(text));
}

/* Splits a leading "source:line: " (added by Lua to script errors) off the message into
   the failure's location: the message's own position is the one its author meant. */
static void take_position_prefix(clua_failure *failure) {
    char *message = failure->message;
    char *colon = strchr(message, ':');
    if (colon == NULL || colon == message || colon - message >= (long)sizeof failure->source) return;
    for (char *c = message; c < colon; c++) if (*c == ' ' || *c == '\n') return;
    char *digits = colon + 1;
    char *end = digits;
    while (*end >= '0' && *end <= '9') end++;
    if (end == digits || end[0] != ':' || end[1] != ' ') return;
    clua_copy_text(failure->source, sizeof failure->source, message, (size_t)(colon - message));
    failure->line = atoi(digits);
    memmove(message, end + 2, strlen(end + 2) + 1);
}

static clua_status classify(clua_runtime *rt) {
    if (rt->budget_tripped) return CLUA_INSTRUCTION_BUDGET;
    if (rt->memory_tripped) return CLUA_MEMORY;
    if (rt->time_tripped) return CLUA_TIME_LIMIT;
    if (rt->pending_status != CLUA_OK) return rt->pending_status;
    if (rt->no_space_message[0] != '\0' && strcmp(rt->no_space_message, rt->failure.message) == 0)
        return CLUA_ALLOCATION;
    return CLUA_RUNTIME;
}

int clua_message_handler(lua_State *L) {
    clua_runtime *rt = clua_runtime_of(L);
    clua_failure *failure = &rt->failure;
    describe_error_value(L, failure);
    failure->line = 0;
    failure->source[0] = '\0';
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0) {
            clua_copy_text(failure->source, sizeof failure->source, ar.short_src, strlen(ar.short_src));
            failure->line = ar.currentline;
            break;
        }
    }
    take_position_prefix(failure);
    failure->status = classify(rt);
    return 1;
}

static int collect_garbage(lua_State *L) {
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

void clua_note_memory_failure(clua_runtime *rt) {
    clua_failure *failure = &rt->failure;
    failure->status = CLUA_MEMORY;
    if (!rt->memory_tripped) { /* refused before the cap tripped: no line was kept */
        failure->line = 0;
        failure->source[0] = '\0';
    }
    snprintf(failure->message, sizeof failure->message, "memory limit of %zu bytes exceeded", rt->memory_cap);
}

clua_status clua_protected(clua_runtime *rt, lua_CFunction body, void *argument) {
    lua_State *L = rt->L;
    rt->budget_tripped = 0;
    rt->memory_tripped = 0;
    rt->time_tripped = 0;
    rt->collection_pending = 0;
    rt->pending_status = CLUA_OK;
    rt->no_space_message[0] = '\0';
    rt->failure.status = CLUA_OK;
    rt->failure.field[0] = '\0';
    rt->instructions_left = rt->instruction_budget;
    rt->deadline_ns = monotonic_ns() + rt->time_limit_ns;
    lua_settop(L, 0);
    lua_pushcfunction(L, clua_message_handler);
    lua_pushcfunction(L, body);
    lua_pushlightuserdata(L, argument);
    rt->in_call = 1;
    lua_sethook(L, clua_budget_hook, LUA_MASKCOUNT, CLUA_HOOK_INTERVAL);
    int status = lua_pcall(L, 1, 0, 1);
    lua_sethook(L, NULL, 0, 0);
    rt->in_call = 0;
    if (status == LUA_OK) {
        lua_settop(L, 0);
        return CLUA_OK;
    }
    clua_failure *failure = &rt->failure;
    if (status == LUA_ERRMEM) {
        clua_note_memory_failure(rt);
    } else if (status == LUA_ERRERR) {
        if (failure->status == CLUA_OK) failure->status = CLUA_RUNTIME;
        if (failure->message[0] == '\0')
            snprintf(failure->message, sizeof failure->message, "error while handling an error (stack overflow?)");
    } else if (failure->status == CLUA_OK) {
        failure->status = CLUA_RUNTIME;
    }
    /* Start the next call from a clean heap: drop what the failed call left behind. */
    rt->memory_tripped = 0;
    lua_settop(L, 0);
    lua_pushcfunction(L, collect_garbage);
    lua_pcall(L, 0, 0, 0);
    lua_settop(L, 0);
    return failure->status;
}

static int open_sandbox(lua_State *L) {
    clua_open_sandbox(L);
    return 0;
}

clua_runtime *clua_open(size_t memory_cap, int64_t instruction_budget, int64_t time_limit_ns, clua_host host) {
    clua_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL) return NULL;
    rt->host = host;
    rt->memory_cap = memory_cap;
    size_t slack = memory_cap / 4 > (4u << 20) ? memory_cap / 4 : (4u << 20);
    rt->hard_cap = memory_cap + slack;
    rt->instruction_budget = instruction_budget;
    rt->time_limit_ns = time_limit_ns;
    rt->devices_ref = LUA_NOREF;
    rt->device_tables_ref = LUA_NOREF;
    rt->loaded_modules_ref = LUA_NOREF;
    for (int i = 0; i < CLUA_HOOK_COUNT; i++) rt->hook_refs[i] = LUA_NOREF;
    rt->L = lua_newstate(capped_alloc, rt);
    if (rt->L == NULL) {
        free(rt);
        return NULL;
    }
    *(clua_runtime **)lua_getextraspace(rt->L) = rt;
    if (clua_protected(rt, open_sandbox, NULL) != CLUA_OK) {
        clua_close(rt);
        return NULL;
    }
    return rt;
}

void clua_close(clua_runtime *rt) {
    if (rt == NULL) return;
    lua_close(rt->L);
    free(rt->integers);
    free(rt->allocations);
    free(rt->string);
    free(rt->published_free);
    free(rt->device_tables);
    free(rt);
}

const clua_failure *clua_last_failure(const clua_runtime *rt) { return &rt->failure; }

size_t clua_memory_in_use(const clua_runtime *rt) { return rt->memory_used; }

int clua_has_hook(const clua_runtime *rt, clua_hook hook) { return rt->hook_refs[hook] != LUA_NOREF; }

int clua_hook_line(const clua_runtime *rt, clua_hook hook) { return rt->hook_lines[hook]; }

const char *clua_hook_source(const clua_runtime *rt, clua_hook hook) { return rt->hook_sources[hook]; }
