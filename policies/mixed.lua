-- mixed.lua: small files and scratch paths go to passthrough backing files; the rest are
-- striped over DAX devices.
--
-- config (all optional):
--   passthrough_patterns  Lua patterns separated by ";" (default "%.tmp$;^/scratch/")
--   min_dax_size          files smaller than this are passthrough (default "2M")
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

local function wants_passthrough(file)
  if file.size < min_dax_size then return true end
  for _, pattern in ipairs(patterns) do
    if file.path:find(pattern) then return true end
  end
  return false
end

function placement(file)
  if wants_passthrough(file) then return "passthrough", backing_prefix .. file.path:sub(2) end
  return "dax"
end

function layout(file, devices)
  return stripe(file, devices)
end
