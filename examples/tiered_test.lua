-- Tests of tiered.lua: famfs-policy test examples/tiered.lua
local MiB = 1024 * 1024

function test_models_are_striped_in_2_mib_chunks(devices)
  local fmap = expect(layout_of{ path = "/models/llama.bin", size = 64 * MiB })
  expect_eq(fmap.ext_type, "interleaved")
  expect_eq(fmap.extents[1].chunk_size, 2 * MiB)
  expect_eq(fmap.extents[1].nstrips, math.min(4, #devices))
  local used = {}
  for _, strip in ipairs(fmap.extents[1].strips) do
    expect(not used[strip.dev], "two strips on device " .. strip.dev)
    used[strip.dev] = true
  end
end

function test_other_files_go_to_the_device_with_the_most_free_memory()
  local first = expect(layout_of{ path = "/data/a", size = 10 * MiB })
  local second = expect(layout_of{ path = "/data/b", size = MiB })
  expect_eq(first.extents[1].dev, 0)
  expect_eq(second.extents[1].dev, 1, "device 0 has less free memory now")
end

function test_a_file_too_big_for_any_device_is_enospc(devices)
  local fmap, err, kind = layout_of{ path = "/data/huge", size = devices[1].size + 1 }
  expect_eq(kind, "allocation", err)
end
