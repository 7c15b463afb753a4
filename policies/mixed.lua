-- mixed.lua: scratch paths and small files stay in passthrough backing files; every other
-- file is committed to DAX when it is closed, striped over the devices.
--
-- The daemon asks placement when a file is created, before it has a size, so every file
-- starts staged (with the daemon's --staging; without it every file is DAX) and the size
-- rule is applied in on_release, once the size is final.
--
-- config (all optional):
--   passthrough_patterns  Lua patterns separated by ";" (default "%.tmp$;^/scratch/")
--   min_dax_size          files smaller than this stay passthrough (default "2M")
--   backing_prefix        folder inside the daemon's --staging directory for the backing files
--                         (default "": a file /a/b is backed by a/b)
--   width                 devices per striped file, 1..32 (default 16)
local famfs = require("lib.famfs")

local patterns = {}
for pattern in (config.passthrough_patterns or "%.tmp$;^/scratch/"):gmatch("[^;]+") do
  patterns[#patterns + 1] = pattern
end
local min_dax_size = famfs.config_size("min_dax_size", "2M")
local backing_prefix = famfs.relative_prefix(config.backing_prefix)
local width = famfs.config_integer("width", 16, 1, 32)
local stripe = famfs.striper(width, "round-robin")

local function matches_a_pattern(file)
  for _, pattern in ipairs(patterns) do
    if file.path:find(pattern) then return true end
  end
  return false
end

function placement(file)
  return "passthrough", backing_prefix .. file.path:sub(2)
end

function on_release(file)
  return file.size >= min_dax_size and not matches_a_pattern(file)
end

function layout(file, devices)
  return stripe(file, devices)
end
