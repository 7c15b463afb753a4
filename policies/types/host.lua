---@meta
-- Type stubs of the famfs-policyd host API for editors (lua-language-server); never loaded.
-- The reference is docs/policy-api.md. policies/.luarc.json points the editor here.

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
---@field alignment integer  alloc's default alignment: the 2 MiB allocation unit
---@field numa_node integer?  NUMA node of the device's memory; nil when unknown

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

-- The hooks: global functions the policy defines and the host calls. Only layout is
-- required. To get completion inside a hook, annotate it the same way, e.g.
-- `---@param file FileFacts` and `---@param devices Device[]` above `function layout`.

--- Defined by the policy (required): lays out a file's memory when it first gets a size.
--- Allocate with `alloc` or `alloc_strips`; allocations the fmap does not use are released.
---@param file FileFacts
---@param devices Device[]  the same table every call; `free` is current
---@return Fmap
function layout(file, devices) end

--- Defined by the policy (optional, default "dax"): where a new file lives. Called at
--- create (file.size is 0), and only when the daemon runs with --staging.
---@param file FileFacts
---@return "dax"|"passthrough" placement
---@return string? backing_path  with "passthrough": relative to the --staging directory
function placement(file) end

--- Defined by the policy (optional, default false): whether a passthrough file is
--- committed to DAX memory when it is closed; it then gets a layout.
---@param file FileFacts  with the size it has when closed
---@return boolean
function on_release(file) end

--- Defined by the policy (optional, default the device's own path): the device path the
--- kernel is told for a device index (famfs's GET_DAXDEV).
---@param index integer  0-based, the fmap's `dev`
---@param devices Device[]
---@return string
function resolve_device(index, devices) end

--- The devices, as the hooks get them: set before the policy's file loads, so top-level
--- code can check its configuration against them.
---@type Device[]
devices = {}

--- Allocates `bytes` (rounded up to the device's unit) on a device; only inside layout.
--- Raises when the device has no room (the call fails with ENOSPC unless caught).
---@param device integer|Device  0-based index or a device table
---@param bytes integer
---@param align integer?  power of two; default the device's alignment
---@return Range
function alloc(device, bytes, align) end

--- Allocates the strips of an interleaved extent: `nchunks` chunks of `chunk_size` bytes dealt
--- round-robin over `devices` (one strip per device, or per chunk when there are fewer chunks),
--- each strip as `alloc` would. Only inside layout; raises like alloc.
---@param devices (integer|Device)[]  0-based indices or device tables
---@param nchunks integer
---@param chunk_size integer
---@return Range[]
function alloc_strips(devices, nchunks, chunk_size) end

--- Allocates as alloc_strips does and returns the fmap of one interleaved extent over those
--- strips (nbytes = nchunks * chunk_size), ready to return from layout. Reads like the table
--- form but cannot be changed (the tables read from it are a copy). Only inside layout; raises like alloc.
---@param devices (integer|Device)[]  0-based indices or device tables
---@param nchunks integer
---@param chunk_size integer
---@return Fmap
function alloc_interleaved(devices, nchunks, chunk_size) end

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

--- The sandbox keeps only these of Lua's os library (.luarc.json turns the full one off).
os = {}

---@param date table?
---@return integer
function os.time(date) end

---@return number  CPU seconds used
function os.clock() end

--- Loads a module of the policy's own folder: "lib.famfs" is lib/famfs.lua.
---@param name string
---@return any
function require(name) end

--- The fmap `layout_of` returns: the `famfs-policy eval --json` shape.
---@class LaidOutFmap: Fmap
---@field file_size integer

---@class TestFile
---@field path string?  default "/test"
---@field size integer?  default 0
---@field uid integer?
---@field gid integer?
---@field mode integer?  default 0x81a4 (0100644)

--- Tests only (famfs-policy test): fails the test at the caller's line unless `condition` holds.
---@generic T
---@param condition T
---@param message any?
---@return T
function expect(condition, message) end

--- Tests only: fails unless `actual` equals `expected` (tables compared deeply), printing both.
---@param actual any
---@param expected any
---@param message any?
---@return any
function expect_eq(actual, expected, message) end

--- Tests only: fails unless `fn(...)` raises an error whose message contains `text`.
---@param fn function
---@param text string?
---@return string
function expect_error(fn, text, ...) end

--- Tests only: runs layout as the daemon would. Returns the fmap, or nil, the error
--- (`file:line: layout: ...`) and its kind (`runtime`, `allocation`, `badReturn`, `invalidFmap`).
---@param file TestFile
---@return LaidOutFmap|nil fmap
---@return string? error
---@return string? kind
function layout_of(file) end
