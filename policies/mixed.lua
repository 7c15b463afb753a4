-- mixed.lua: small files and scratch paths go to passthrough backing files; the rest are
-- striped over DAX devices.
--
-- config (all optional):
--   passthrough_patterns  Lua patterns separated by ";" (default "%.tmp$;^/scratch/")
--   min_dax_size          files smaller than this are passthrough (default "2M")
--   backing_root          folder of the backing files (default "/var/lib/famfs-policyd/backing")
--   width                 devices per striped file, 1..32 (default 16)
local famfs = require("lib.famfs")

local patterns = {}
for pattern in (config.passthrough_patterns or "%.tmp$;^/scratch/"):gmatch("[^;]+") do
  patterns[#patterns + 1] = pattern
end
local min_dax_size = famfs.config_size("min_dax_size", "2M")
local backing_root = config.backing_root or "/var/lib/famfs-policyd/backing"
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
  if wants_passthrough(file) then return "passthrough", backing_root .. file.path end
  return "dax"
end

function layout(file, devices)
  return stripe(file, devices)
end
