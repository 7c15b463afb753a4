-- Tests of mixed.lua: famfs-policy test policies/mixed.lua (default config)
local famfs = require("lib.famfs")

function test_every_file_starts_staged_under_its_own_path()
  expect_eq({ placement{ path = "/data/notes.txt", size = 0 } }, { "passthrough", "data/notes.txt" })
end

function test_small_files_stay_passthrough()
  expect_eq(on_release{ path = "/data/notes.txt", size = 12 * famfs.KiB }, false)
end

function test_scratch_and_tmp_paths_stay_passthrough_whatever_their_size()
  expect_eq(on_release{ path = "/scratch/run.log", size = famfs.GiB }, false)
  expect_eq(on_release{ path = "/data/upload.tmp", size = famfs.GiB }, false)
end

function test_large_files_are_committed_and_striped(devices)
  expect_eq(on_release{ path = "/data/table.parquet", size = famfs.GiB }, true)
  local fmap = expect(layout_of{ path = "/data/table.parquet", size = 64 * famfs.MiB })
  expect_eq(fmap.extents[1].nstrips, #devices)
end
