-- stripe.lua: interleave each file over `width` devices picked from the pool, 2 MiB chunks.
--
-- config (all optional):
--   width  devices per file, 1..32 (default 16; fewer when the pool or the file is smaller)
--   pool   device indices, e.g. "0-7,12" (default: every device)
--   pick   "round-robin" (default) or "random"
--   seed   random seed for pick=random (default: Lua's own)
local famfs = require("lib.famfs")

local width = famfs.config_integer("width", 16, 1, 32)
local pick = famfs.config_choice("pick", "round-robin", { "round-robin", "random" })
local seed = famfs.config_integer("seed", nil, 0, math.maxinteger)
if seed then math.randomseed(seed) end

local pool_ranges = famfs.config_pool("pool")

local stripe = famfs.striper(width, pick)
-- The host passes the same devices table to every call (the global `devices` while this
-- file loads), so the pool is resolved once, here: a pool naming a device that does not
-- exist stops the policy from loading.
local pool = famfs.pool(devices, pool_ranges)

function layout(file)
  return stripe(file, pool)
end
