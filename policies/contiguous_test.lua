-- Tests of contiguous.lua: famfs-policy test policies/contiguous.lua
local famfs = require("lib.famfs")

function test_a_file_is_one_extent_on_the_first_device()
  local fmap = expect(layout_of{ path = "/a", size = 5 * famfs.MiB })
  expect_eq(fmap, { file_size = 5 * famfs.MiB, ext_type = "simple",
                    extents = { { dev = 0, offset = 0, length = 6 * famfs.MiB } } })
end

function test_the_next_file_follows_on_the_same_device()
  layout_of{ path = "/a", size = famfs.CHUNK }
  local fmap = expect(layout_of{ path = "/b", size = famfs.CHUNK })
  expect_eq(fmap.extents[1], { dev = 0, offset = famfs.CHUNK, length = famfs.CHUNK })
end

function test_a_file_that_does_not_fit_goes_to_the_next_device(devices)
  expect(layout_of{ path = "/fill", size = devices[1].size - famfs.CHUNK })
  local fmap = expect(layout_of{ path = "/next", size = 2 * famfs.CHUNK })
  expect_eq(fmap.extents[1].dev, 1)
end

function test_a_file_larger_than_any_device_fails_with_enospc(devices)
  local fmap, err, kind = layout_of{ path = "/big", size = devices[1].size * 2 }
  expect_eq(fmap, nil)
  expect_eq(kind, "allocation", err)
end
