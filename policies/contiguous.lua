-- contiguous.lua: each file is one simple extent on the first device with room (first fit).
local famfs = require("lib.famfs")

function layout(file, devices)
  return famfs.contiguous(file, devices)
end
