-- tiered.lua: the sample policy of docs/walkthrough.md, self-contained.
-- Model weights are striped over the devices in 2 MiB chunks for bandwidth; everything
-- else gets one extent on the device with the most free memory, so devices fill evenly.
--
-- config (optional):
--   width  devices per striped file, 1..32 (default 4)
local CHUNK = 2 * 1024 * 1024

local width = math.tointeger(tonumber(config.width or "4"))
if width == nil or width < 1 or width > 32 then
  error(("config.width: %q is not an integer in 1..32"):format(config.width))
end

local function is_model(file)
  return file.path:find("^/models/") ~= nil or file.path:find("%.safetensors$") ~= nil
end

local function chunks(size)
  return math.max(1, (size + CHUNK - 1) // CHUNK)
end

-- The devices in order of free memory, most first.
local function by_free(devices)
  local sorted = {}
  for i, device in ipairs(devices) do sorted[i] = device end
  table.sort(sorted, function(a, b)
    if a.free ~= b.free then return a.free > b.free end
    return a.index < b.index
  end)
  return sorted
end

local function stripe(file, devices)
  local n = math.min(width, #devices, chunks(file.size))
  local order = by_free(devices)   -- once: each alloc lowers a device's free
  local strips = {}
  for s = 1, n do
    local strip_chunks = (chunks(file.size) - s + n) // n
    strips[s] = alloc(order[s], strip_chunks * CHUNK, CHUNK)
  end
  log.debug("striped", file.path, "over", n, "devices")
  return { ext_type = "interleaved",
           extents = { { chunk_size = CHUNK, nbytes = chunks(file.size) * CHUNK, strips = strips } } }
end

function layout(file, devices)
  if is_model(file) then return stripe(file, devices) end
  return { ext_type = "simple", extents = { alloc(by_free(devices)[1], chunks(file.size) * CHUNK) } }
end
