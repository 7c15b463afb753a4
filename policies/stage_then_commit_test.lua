-- Tests of stage_then_commit.lua: famfs-policy test policies/stage_then_commit.lua
local famfs = require("lib.famfs")

function test_every_file_is_staged_under_its_own_path()
  expect_eq({ placement{ path = "/a/b.bin", size = 0 } }, { "passthrough", "a/b.bin" })
end

function test_release_commits_files_with_data_and_keeps_empty_ones_staged()
  expect_eq(on_release{ path = "/a", size = 1 }, true)
  expect_eq(on_release{ path = "/a", size = 0 }, false)
end

function test_small_files_commit_as_one_extent()
  local fmap = expect(layout_of{ path = "/small", size = 3 * famfs.MiB })
  expect_eq(fmap.ext_type, "simple")
  expect_eq(#fmap.extents, 1)
end

function test_files_from_64_mib_are_striped(devices)
  local fmap = expect(layout_of{ path = "/large", size = 64 * famfs.MiB })
  expect_eq(fmap.ext_type, "interleaved")
  expect_eq(fmap.extents[1].nstrips, #devices)
end
