-- Shared helpers for famfs policies: sizes, configuration, device pools and fmap builders.
-- Load with `local famfs = require("lib.famfs")` from a policy in the folder above.
local famfs = {}

famfs.KiB = 1024
famfs.MiB = 1024 * 1024
famfs.GiB = 1024 * famfs.MiB
famfs.TiB = 1024 * famfs.GiB
-- The interleave chunk and allocation unit the kernel maps with huge pages.
famfs.CHUNK = 2 * famfs.MiB

local suffixes = { K = famfs.KiB, M = famfs.MiB, G = famfs.GiB, T = famfs.TiB }

-- Bytes in a size written as 4096, "2M", "64G", "1.5T" or "10 MiB" (powers of 1024; a
-- fraction needs a suffix and is rounded down), as the command line takes them; nil if it
-- is not one, or too large.
function famfs.parse_size(text)
  if math.type(text) == "integer" then return text end
  local number, suffix = tostring(text):upper():match("^%s*(%d+%.?%d*)%s*([KMGT]?)I?B?%s*$")
  if not number then return nil end
  local unit = suffixes[suffix] or 1
  local whole = math.tointeger(tonumber(number))
  if whole then
    if whole > math.maxinteger // unit then return nil end
    return whole * unit
  end
  if suffix == "" then return nil end
  return math.tointeger(math.floor(tonumber(number) * unit))
end

-- `n` rounded up to a multiple of `unit`.
function famfs.round_up(n, unit)
  return (n + unit - 1) // unit * unit
end

-- Chunks of `chunk` bytes a file of `size` bytes needs; an empty file still gets one.
function famfs.chunks(size, chunk)
  return math.max(1, (size + chunk - 1) // chunk)
end

-- config[name] as an integer within [low, high], or `default` when unset.
function famfs.config_integer(name, default, low, high)
  local value = config[name]
  if value == nil then return default end
  local n = math.tointeger(tonumber(value))
  if n == nil or n < low or n > high then
    error(("config.%s: %q is not an integer in %d..%d"):format(name, value, low, high), 2)
  end
  return n
end

-- config[name] as a byte size (K/M/G/T suffixes), or `default` when unset.
function famfs.config_size(name, default)
  local value = config[name]
  if value == nil then return famfs.parse_size(default) end
  local n = famfs.parse_size(value)
  if n == nil then error(("config.%s: %q is not a size"):format(name, value), 2) end
  return n
end

-- A folder prefix for backing paths, which are relative to the daemon's --staging
-- directory: "" when unset, otherwise the folder with one trailing "/".
function famfs.relative_prefix(value)
  if value == nil or value == "" then return "" end
  value = tostring(value)
  if value:sub(1, 1) == "/" then
    error(("backing prefix %q must be relative to the --staging directory"):format(value), 2)
  end
  return (value:gsub("/*$", "/"))
end

-- config[name] as one of `choices`, or `default` when unset.
function famfs.config_choice(name, default, choices)
  local value = config[name] or default
  for _, choice in ipairs(choices) do
    if value == choice then return value end
  end
  error(("config.%s: %q is not one of %s"):format(name, value, table.concat(choices, ", ")), 2)
end

-- A pool spec such as "0-7,12" (0-based device indices, ranges inclusive) as a list of
-- { first, last } ranges; nil for every device when the spec is nil or "". Only the syntax
-- is checked, and that no device is named twice: famfs.pool checks the indices against the
-- devices. Returns nil and a message when the spec is not one.
function famfs.parse_pool(spec)
  if spec == nil or spec == "" then return nil end
  spec = tostring(spec)
  local ranges = {}
  for item in spec:gmatch("[^,%s]+") do
    local first, last = item:match("^(%d+)%-(%d+)$")
    if not first then first = item:match("^%d+$"); last = first end
    local where = item == spec and ("%q"):format(item) or ("%q in %q"):format(item, spec)
    if not first then
      return nil, where .. ' is not a device index or a range of them, e.g. "0-7,12"'
    end
    first, last = math.tointeger(tonumber(first)), math.tointeger(tonumber(last))
    if first == nil or last == nil then return nil, where .. " is too large an index" end
    if first > last then return nil, where .. " runs backwards; write the smaller index first" end
    for _, earlier in ipairs(ranges) do
      if first <= earlier[2] and last >= earlier[1] then
        return nil, ("%s names device %d again; name each device once"):format(where, math.max(first, earlier[1]))
      end
    end
    ranges[#ranges + 1] = { first, last }
  end
  if #ranges == 0 then return nil, ("%q names no device"):format(spec) end
  return ranges
end

-- config[name] as a pool (famfs.parse_pool's ranges), or nil (every device) when unset.
-- Call it at load, so that a bad spec fails the load with the caller's line.
function famfs.config_pool(name)
  local ranges, problem = famfs.parse_pool(config[name])
  if problem then error(("config.%s: %s"):format(name, problem), 2) end
  return ranges
end

-- The devices of a pool: `pool` is what famfs.parse_pool or famfs.config_pool returned
-- (nil for every device), or a spec string, parsed here. Raises for an index past the devices.
function famfs.pool(devices, pool)
  if type(pool) ~= "table" then
    local ranges, problem = famfs.parse_pool(pool)
    if problem then error("pool: " .. problem, 2) end
    pool = ranges
  end
  if pool == nil then return devices end
  local picked = {}
  for _, range in ipairs(pool) do
    for index = range[1], range[2] do
      local device = devices[index + 1]
      if device == nil then error(("pool: device %d does not exist (%d devices)"):format(index, #devices), 2) end
      picked[#picked + 1] = device
    end
  end
  return picked
end

-- Writes into `picked` up to `n` devices with at least `need` bytes free, taken
-- round-robin from `pool` starting at position `start` (0-based); returns how many.
-- Entries of `picked` past that count are left as they were.
local function pick_round_robin_into(picked, pool, n, start, need)
  local count, size = 0, #pool
  for k = start, start + size - 1 do
    local device = pool[k % size + 1]
    if device.free >= need then
      count = count + 1
      picked[count] = device
      if count == n then break end
    end
  end
  return count
end

-- Up to `n` devices with at least `need` bytes free, taken round-robin from `pool`
-- starting at position `start` (0-based).
function famfs.pick_round_robin(pool, n, start, need)
  local picked = {}
  pick_round_robin_into(picked, pool, n, start, need)
  return picked
end

-- Up to `n` distinct devices with at least `need` bytes free, drawn at random from `pool`.
function famfs.pick_random(pool, n, need)
  local candidates = {}
  for _, device in ipairs(pool) do
    if device.free >= need then candidates[#candidates + 1] = device end
  end
  local picked = {}
  for k = 1, math.min(n, #candidates) do
    local j = math.random(k, #candidates)
    candidates[k], candidates[j] = candidates[j], candidates[k]
    picked[k] = candidates[k]
  end
  return picked
end

-- The interleaved fmap of a file of `chunks` chunks over the first `count` devices of
-- `picked` (the pool's first device when there are none, so that alloc reports the shortage).
local function interleave(chunks, picked, count, chunk, pool)
  if count == 0 then picked, count = { pool[1] }, 1 end
  for k = count + 1, #picked do picked[k] = nil end -- a reused `picked` may hold older picks
  return alloc_interleaved(picked, chunks, chunk)
end

-- An interleaved fmap: the file's chunks dealt round-robin over one strip per picked device.
-- When no device was picked, allocating on the pool's first device reports the shortage.
function famfs.interleave(file, picked, chunk, pool)
  return interleave(famfs.chunks(file.size, chunk), picked, #picked, chunk, pool)
end

-- A layout function striping files over `width` devices of a pool with 2 MiB chunks.
-- pick "round-robin" keeps a cursor advanced by each file's chunk count, so consecutive
-- files' chunks are dealt over the pool as one sequence; "random" draws devices.
function famfs.striper(width, pick)
  local chunk = famfs.CHUNK
  local cursor = 0
  local picked = {} -- reused by every round-robin call; only its first `count` entries count
  return function(file, pool)
    local size = #pool
    local chunks = famfs.chunks(file.size, chunk)
    local n = math.min(width, size, chunks)
    local need = (chunks + n - 1) // n * chunk
    if pick == "random" then
      local drawn = famfs.pick_random(pool, n, need)
      return interleave(chunks, drawn, #drawn, chunk, pool)
    end
    local count = pick_round_robin_into(picked, pool, n, cursor, need)
    cursor = (cursor + chunks) % size
    return interleave(chunks, picked, count, chunk, pool)
  end
end

-- A simple fmap of one extent on the first device (in `devices` order) with room for it.
function famfs.contiguous(file, devices)
  local bytes = famfs.chunks(file.size, famfs.CHUNK) * famfs.CHUNK
  local roomiest = devices[1]
  for _, device in ipairs(devices) do
    if device.free >= bytes then
      local ok, extent = pcall(alloc, device, bytes)
      if ok then return { ext_type = "simple", extents = { extent } } end
    end
    if device.free > roomiest.free then roomiest = device end
  end
  -- Nothing fits: let the allocator say so (the call fails with ENOSPC).
  return { ext_type = "simple", extents = { alloc(roomiest, bytes) } }
end

return famfs
