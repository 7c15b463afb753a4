---@meta
-- Type stubs of the famfs-policyd host API for editors (lua-language-server); never loaded.
-- The reference is docs/policy-api.md.

---@class FileFacts
---@field path string
---@field size integer
---@field uid integer
---@field gid integer
---@field mode integer  st_mode with type bits

---@class Device
---@field index integer  0-based; the fmap's `dev`
---@field path string
---@field size integer
---@field free integer  bytes not yet allocated, refreshed by the host
---@field alignment integer  allocation unit (2 MiB)
---@field numa_node integer?

---@class Range
---@field dev integer
---@field offset integer
---@field length integer

---@class InterleavedExtent
---@field nstrips integer?  optional; must equal #strips when given
---@field chunk_size integer  4096 or 2097152
---@field nbytes integer  file bytes this extent covers
---@field strips Range[]

---@class Fmap
---@field ext_type "simple"|"interleaved"
---@field extents Range[]|InterleavedExtent[]

--- Allocates `bytes` (rounded up to the device's unit) on a device; only inside layout.
--- Raises when the device has no room (the call fails with ENOSPC unless caught).
---@param device integer|Device  0-based index or a device table
---@param bytes integer
---@param align integer?  power of two; default the device's alignment
---@return Range
function alloc(device, bytes, align) end

---@class Log
---@field debug fun(...: any)
---@field info fun(...: any)
---@field warn fun(...: any)
---@field error fun(...: any)
---@type Log
log = {}

--- Strings from the host (`--set key=value`, `config:` in an eval input).
---@type table<string, string>
config = {}

--- Loads a module of the policy's own folder: "lib.famfs" is lib/famfs.lua.
---@param name string
---@return any
function require(name) end
