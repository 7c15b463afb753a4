-- Tests of stripe.lua: famfs-policy test policies/stripe.lua
-- Each test gets the device table (four 1 GiB devices by default) and empty devices.
local famfs = require("lib.famfs")

-- Files are striped over `width` devices (config, default 16) or every device if fewer.
local function stripe_width(devices)
  return math.min(math.tointeger(tonumber(config.width or "16")), #devices)
end

function test_a_large_file_is_striped_with_2_mib_chunks(devices)
  local n = stripe_width(devices)
  local fmap = expect(layout_of{ path = "/big", size = 100 * famfs.MiB })
  expect_eq(fmap.ext_type, "interleaved")
  local extent = fmap.extents[1]
  expect_eq(extent.chunk_size, famfs.CHUNK)
  expect_eq(extent.nstrips, n, "one strip per device")
  -- 50 chunks dealt over n strips: the first 50 % n strips carry one chunk more.
  for s, strip in ipairs(extent.strips) do
    expect_eq(strip.dev, s - 1)
    local chunks = 50 // n + (s <= 50 % n and 1 or 0)
    expect_eq(strip.length, chunks * famfs.CHUNK, "strip " .. s)
  end
end

function test_small_and_empty_files_take_one_chunk()
  for _, size in ipairs({ 0, 1, famfs.CHUNK }) do
    local fmap = expect(layout_of{ size = size })
    expect_eq(fmap.extents[1].nstrips, 1, "size " .. size)
    expect_eq(fmap.extents[1].strips[1].length, famfs.CHUNK)
  end
end

function test_round_robin_continues_where_the_previous_file_ended(devices)
  -- The first file's 3 chunks start at device 0; the next file starts 3 devices on.
  layout_of{ path = "/a", size = 3 * famfs.CHUNK }
  local second = expect(layout_of{ path = "/b", size = famfs.CHUNK })
  expect_eq(second.extents[1].strips[1].dev, 3 % #devices)
end

function test_files_never_share_memory()
  local seen = {}
  for n = 1, 20 do
    local fmap = expect(layout_of{ path = "/f" .. n, size = n * 3 * famfs.MiB })
    for _, strip in ipairs(fmap.extents[1].strips) do
      local key = strip.dev .. ":" .. strip.offset
      expect(not seen[key], "two files at " .. key)
      seen[key] = true
    end
  end
end

function test_a_file_larger_than_the_devices_fails_with_enospc(devices)
  local total = 0
  for _, device in ipairs(devices) do total = total + device.size end
  local fmap, err, kind = layout_of{ path = "/huge", size = total + famfs.CHUNK }
  expect_eq(fmap, nil)
  expect_eq(kind, "allocation")
  expect(err:find("no contiguous free run", 1, true), err)
end
