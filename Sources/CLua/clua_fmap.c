#include "clua_internal.h"

/* Fmaps the host builds (alloc_interleaved): a userdata holding the flattened extent, so a
   layout can return it without the host creating, and then reading back, a table per strip.
   Scripts that index one see the table form (made on first access, kept as the userdata's
   user value); they cannot change it. */

static const char *const built_fmap_type = "famfs.fmap";

clua_built_fmap *clua_new_built_fmap(lua_State *L, lua_Integer nstrips, lua_Integer chunk_size, lua_Integer nbytes) {
    clua_built_fmap *fmap = lua_newuserdatauv(L, sizeof *fmap + (size_t)nstrips * sizeof fmap->strips[0], 1);
    fmap->nstrips = nstrips;
    fmap->chunk_size = chunk_size;
    fmap->nbytes = nbytes;
    luaL_setmetatable(L, built_fmap_type);
    return fmap;
}

clua_built_fmap *clua_to_built_fmap(lua_State *L, int index) {
    return luaL_testudata(L, index, built_fmap_type);
}

/* Pushes the table form of the built fmap at stack index 1, making it on first use. */
static void push_table_form(lua_State *L) {
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) return;
    lua_pop(L, 1);
    clua_runtime *rt = clua_runtime_of(L);
    const clua_built_fmap *fmap = lua_touserdata(L, 1);
    lua_createtable(L, 0, 2);
    int table = lua_gettop(L);
    clua_push_key(L, rt, CLUA_KEY_EXT_TYPE);
    lua_pushliteral(L, "interleaved");
    lua_rawset(L, table);
    clua_push_key(L, rt, CLUA_KEY_EXTENTS);
    lua_createtable(L, 1, 0);
    lua_createtable(L, 0, 4);
    int extent = lua_gettop(L);
    clua_set_integer(L, rt, extent, CLUA_KEY_NSTRIPS, fmap->nstrips);
    clua_set_integer(L, rt, extent, CLUA_KEY_CHUNK_SIZE, fmap->chunk_size);
    clua_set_integer(L, rt, extent, CLUA_KEY_NBYTES, fmap->nbytes);
    clua_push_key(L, rt, CLUA_KEY_STRIPS);
    lua_createtable(L, (int)fmap->nstrips, 0);
    for (lua_Integer s = 0; s < fmap->nstrips; s++) {
        clua_push_range(L, rt, fmap->strips[s]);
        lua_rawseti(L, -2, s + 1);
    }
    lua_rawset(L, extent);
    lua_rawseti(L, extent - 1, 1);
    lua_rawset(L, table);
    lua_pushvalue(L, table);
    lua_setiuservalue(L, 1, 1);
}

/* fmap.key: the table form's field. */
static int built_fmap_index(lua_State *L) {
    lua_settop(L, 2);
    push_table_form(L);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int built_fmap_newindex(lua_State *L) {
    return clua_raise(L, "an fmap made by alloc_interleaved cannot be changed; build a table to return another");
}

/* The iterator pairs(fmap) returns: `next` over the table form. */
static int table_form_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE); /* a script may call it with anything */
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(fmap): the table form's fields. */
static int built_fmap_pairs(lua_State *L) {
    lua_settop(L, 1);
    lua_pushcfunction(L, table_form_next);
    push_table_form(L);
    lua_pushnil(L);
    return 3;
}

void clua_register_built_fmap(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"__index", built_fmap_index}, {"__newindex", built_fmap_newindex}, {"__pairs", built_fmap_pairs}, {NULL, NULL}};
    luaL_newmetatable(L, built_fmap_type);
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, built_fmap_type);
    lua_setfield(L, -2, "__metatable"); /* getmetatable shows the name; setmetatable refuses */
    lua_pop(L, 1);
}
