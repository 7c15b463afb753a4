-- Tests of mixed.lua: famfs-policy test policies/mixed.lua (default config)
local famfs = require("lib.famfs")

function test_small_files_are_passthrough_under_their_own_path()
  expect_eq({ placement{ path = "/data/notes.txt", size = 12 * famfs.KiB } }, { "passthrough", "data/notes.txt" })
end

function test_scratch_and_tmp_paths_are_passthrough_whatever_their_size()
  expect_eq(placement{ path = "/scratch/run.log", size = famfs.GiB }, "passthrough")
  expect_eq(placement{ path = "/data/upload.tmp", size = famfs.GiB }, "passthrough")
end

function test_large_files_are_dax_and_striped(devices)
  expect_eq(placement{ path = "/data/table.parquet", size = famfs.GiB }, "dax")
  local fmap = expect(layout_of{ path = "/data/table.parquet", size = 64 * famfs.MiB })
  expect_eq(fmap.extents[1].nstrips, #devices)
end
