-- stage_then_commit.lua: every file is created as a passthrough backing file, and on its
-- last release (when its size is final) committed to DAX: one extent when small, striped
-- when large.
--
-- config (all optional):
--   stage_prefix      folder inside the daemon's --staging directory for the staged files
--                     (default "": a file /a/b is staged as a/b)
--   stripe_threshold  files at least this large are striped (default "64M")
--   width             devices per striped file, 1..32 (default 16)
local famfs = require("lib.famfs")

local stage_prefix = famfs.relative_prefix(config.stage_prefix)
local stripe_threshold = famfs.config_size("stripe_threshold", "64M")
local width = famfs.config_integer("width", 16, 1, 32)
local stripe = famfs.striper(width, "round-robin")

function placement(file)
  return "passthrough", stage_prefix .. file.path:sub(2)
end

-- Empty files stay staged: there is nothing to commit yet.
function on_release(file)
  return file.size > 0
end

function layout(file, devices)
  if file.size < stripe_threshold then return famfs.contiguous(file, devices) end
  return stripe(file, devices)
end
