import Policy
import Testing

/// Scripts that never finish, eat memory, or recurse without end are stopped with an
/// error naming their line, and the state serves the next call.
@Suite struct RunawayTests {
    @Test func endlessLoopRunsOutOfInstructionBudget() throws {
        try expectHostileLayout("    while true do end --here", kind: .instructionBudget,
                                contains: "instruction budget of 10000000 instructions exceeded", lineMarker: "--here")
    }

    @Test func pcallCannotSwallowTheBudgetStop() throws {
        let hostile = """
            for i = 1, 100 do
              pcall(function() while true do end end)
            end
            local x = 0 --here
        """
        try expectHostileLayout(hostile, kind: .instructionBudget, contains: "instruction budget", limits: PolicyLimits(instructionBudget: 100_000))
    }

    @Test("an xpcall message handler that loops is stopped: it runs as an ordinary call, after the failed one unwound")
    func loopingMessageHandlerIsStopped() throws {
        try expectHostileLayout("    xpcall(error, function() while true do end end, \"x\") --here", kind: .instructionBudget,
                                contains: "instruction budget", limits: PolicyLimits(instructionBudget: 100_000))
    }

    @Test func xpcallStillCallsItsHandler() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            assert(select("#", xpcall(function(a, b) return a, b end, print, 1, 2)) == 3)
            local ok, handled = xpcall(error, function(e) return "handled " .. e end, "oops", 0)
            assert(not ok and handled == "handled oops", handled)
            local ok2, again = xpcall(error, function(e) error("in handler", 0) end, "x", 0)
            assert(not ok2 and again == "in handler", again)
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test("library calls the instruction count cannot see are stopped by the time limit")
    func libraryWorkRunsOutOfTime() throws {
        let hostile = """
            local s = string.rep("x", 4 << 20)
            while true do s:gsub(".", "%0") end --here
        """
        try expectHostileLayout(hostile, kind: .timeLimit, contains: "time limit of 300 ms exceeded", lineMarker: "--here",
                                limits: PolicyLimits(timeLimit: .milliseconds(300)))
    }

    @Test("garbage does not count against the cap: past it, the host collects before the limit trips")
    func garbageIsCollectedBeforeTheCapTrips() throws {
        // With the collector stopped, every 3 MiB string stays until someone collects.
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              collectgarbage("collect")
              collectgarbage("stop")
              local big = string.rep("y", 3 << 20)
              for i = 1, 30 do local s = big .. i end
              if file.path == "/kept" then
                kept = {}
                for i = 1, 30 do kept[i] = big .. i end --here
              end
              return { ext_type = "simple", extents = { alloc(0, 1) } }
            end
            """])
        let runtime = try fixture.runtime(limits: PolicyLimits(memoryBytes: 8 << 20))
        _ = try runtime.layout(for: FileFacts(path: "/f", size: 1), allocator: fixture.allocator())
        // What the script holds still counts.
        #expect { _ = try runtime.layout(for: FileFacts(path: "/kept", size: 1), allocator: fixture.allocator()) } throws: { error in
            (error as? PolicyError)?.description == "policy.lua:\(try fixture.line(of: "--here")): layout: memory limit of 8388608 bytes exceeded"
        }
    }

    @Test("a script that fills its state and keeps it gets a fresh state: the call after the memory failure works")
    func aFullStateIsLoadedAgain() throws {
        let fixture = try PolicyFixture(["policy.lua": hostilePolicy("""
                kept = kept or {}
                for i = 1, 1e9 do kept[#kept + 1] = {i} end
            """, prelude: "calls = (calls or 0) + 1")])
        let runtime = try fixture.runtime(limits: PolicyLimits(memoryBytes: 8 << 20))
        let allocator = fixture.allocator()
        #expect(throws: PolicyError.self) { try runtime.layout(for: FileFacts(path: "/hostile", size: 1), allocator: allocator) }
        #expect(runtime.memoryInUse > 6 << 20, "the script's globals hold what it made")
        _ = try runtime.layout(for: FileFacts(path: "/good", size: 1), allocator: allocator)
        #expect(runtime.memoryInUse < 1 << 20)
    }

    @Test func budgetIsConfigurable() throws {
        try expectHostileLayout("    for i = 1, 200000 do end --here", kind: .instructionBudget,
                                contains: "instruction budget of 100000 instructions exceeded", lineMarker: "--here",
                                limits: PolicyLimits(instructionBudget: 100_000))
    }

    @Test func tableMemoryBombHitsTheMemoryCap() throws {
        let hostile = """
            local t = {}
            for i = 1, 1e9 do t[i] = {i} end --here
        """
        try expectHostileLayout(hostile, kind: .memory, contains: "memory limit of 8388608 bytes exceeded",
                                lineMarker: "--here", limits: PolicyLimits(memoryBytes: 8 << 20))
    }

    @Test func stringRepBombHitsTheMemoryCap() throws {
        try expectHostileLayout("    local s = string.rep(\"x\", 1 << 30) --here", kind: .memory,
                                contains: "memory limit of 67108864 bytes exceeded", lineMarker: "--here")
    }

    @Test func stringDoublingBombHitsTheMemoryCap() throws {
        let hostile = """
            local s = "x"
            while true do s = s .. s end --here
        """
        try expectHostileLayout(hostile, kind: .memory, contains: "memory limit", lineMarker: "--here")
    }

    @Test func pcallCannotSwallowTheMemoryStop() throws {
        let hostile = """
            local ok = pcall(string.rep, "x", 1 << 30)
            local t = {} --here
        """
        try expectHostileLayout(hostile, kind: .memory, contains: "memory limit", lineMarker: "--here")
    }

    @Test func repeatingAnEmptyStringEndlesslyReturnsAtOnce() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            assert(string.rep("", math.maxinteger) == "" and ("").rep("", math.maxinteger, "") == "")
            assert(string.rep("ab", 3, "-") == "ab-ab-ab")
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func tableMoveIsChargedToTheBudget() throws {
        try expectHostileLayout("    table.move({}, 1, math.maxinteger - 1, 2) --here", kind: .instructionBudget,
                                contains: "instruction budget of 10000000 instructions exceeded", lineMarker: "--here")
        try expectHostileLayout("""
                for i = 1, 1000 do pcall(table.move, {}, 1, 100000, 2) end
                local x = 1 --here
            """, kind: .instructionBudget, contains: "instruction budget")
    }

    @Test("table functions whose elements come from C metamethods are charged per element, so they cannot loop unseen")
    func tableFunctionsAreChargedToTheBudget() throws {
        try expectHostileLayout("    table.concat(setmetatable({}, { __index = table.concat }), '', 1, math.maxinteger) --here",
                                kind: .instructionBudget, contains: "instruction budget of 10000000 instructions exceeded",
                                lineMarker: "--here")
        let endless = "setmetatable({}, { __len = function() return math.maxinteger end, __index = rawlen, __newindex = rawequal })"
        try expectHostileLayout("    table.remove(\(endless), 1) --here", kind: .instructionBudget, contains: "instruction budget",
                                lineMarker: "--here")
        try expectHostileLayout("    table.insert(\(endless), 1, 0) --here", kind: .instructionBudget, contains: "instruction budget",
                                lineMarker: "--here")
        try expectHostileLayout("    table.unpack(\(endless), 1, 1 << 40) --here", kind: .instructionBudget, contains: "instruction budget",
                                lineMarker: "--here")
        let huge = "setmetatable({}, { __len = function() return 1 << 30 end, __index = rawlen, __newindex = rawequal })"
        try expectHostileLayout("    table.sort(\(huge)) --here", kind: .instructionBudget, contains: "instruction budget",
                                lineMarker: "--here")
    }

    @Test func chargedTableFunctionsStillWork() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local t = { 3, 1, 2 }
            table.sort(t)
            table.insert(t, 1, 0)
            table.insert(t, 4)
            assert(table.remove(t, 1) == 0 and table.remove(t) == 4)
            assert(table.concat(t, ",") == "1,2,3" and table.concat(t, "-", 2, 3) == "2-3")
            assert(select("#", table.unpack(t)) == 3 and select(2, table.unpack(t, 2)) == 3)
            assert(not pcall(table.concat, 42))
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test("xpcall passes on as many arguments as the caller gave it, and refuses more than the stack holds")
    func xpcallTakesManyArguments() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local ok, count = xpcall(function(...) return select("#", ...) end, print, table.unpack({}, 1, 200000))
            assert(ok and count == 200000, count)
            -- Twice that many values would not fit the stack: refused, not written past its end.
            local fits, problem = pcall(xpcall, function() end, print, table.unpack({}, 1, 900000))
            assert(not fits and problem:find("too many arguments to xpcall", 1, true), problem)
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func tableMoveStillMoves() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local t = table.move({1, 2, 3}, 1, 3, 2)
            assert(t[1] == 1 and t[2] == 1 and t[4] == 3)
            local u = table.move({1, 2}, 1, 2, 1, {})
            assert(u[2] == 2)
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func deepRecursionIsAStackOverflow() throws {
        let hostile = """
            local function down(n) return 1 + down(n + 1) end --here
            down(1)
        """
        try expectHostileLayout(hostile, kind: .runtime, contains: "stack overflow", lineMarker: "--here")
    }

    @Test func recursionThroughCFunctionsIsACStackOverflow() throws {
        let hostile = """
            local t = setmetatable({}, {})
            getmetatable(t).__index = function(self, k) return self[k] end --here
            local x = t.anything
        """
        try expectHostileLayout(hostile, kind: .runtime, contains: "stack overflow", lineMarker: "--here")
    }

    @Test func endlessTailCallsRunOutOfBudget() throws {
        let hostile = """
            local function spin(n) return spin(n + 1) end --here
            spin(1)
        """
        try expectHostileLayout(hostile, kind: .instructionBudget, contains: "instruction budget", lineMarker: "--here")
    }

    @Test func finalizersAreRefusedBecauseHooksDoNotRunInThem() throws {
        try expectHostileLayout("    setmetatable({}, { __gc = function() while true do end end }) --here", kind: .runtime,
                                contains: "setmetatable: __gc metamethods are not allowed in policies", lineMarker: "--here")
    }

    @Test func metatablesWithoutFinalizersStillWork() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local counter = setmetatable({}, { __index = function() return 0 end })
            assert(counter.anything == 0)
            local mt = {}
            local t = setmetatable({}, mt)
            mt.__gc = function() while true do end end -- too late: t is not marked for finalization
            t = nil
            collectgarbage()
            function layout(file, devices) return { ext_type = "simple", extents = { alloc(0, 1) } } end
            """])
        _ = try fixture.runtime()
    }

    @Test func topLevelEndlessLoopFailsTheLoad() throws {
        let fixture = try PolicyFixture(["policy.lua": "function layout() end\nwhile true do end\n"])
        #expect { _ = try fixture.runtime(limits: PolicyLimits(instructionBudget: 50_000)) } throws: { error in
            (error as? PolicyError)?.description == "policy.lua:2: load: instruction budget of 50000 instructions exceeded"
        }
    }
}

/// `error()` with any value becomes a readable message with the raising line.
@Suite struct ErrorValueTests {
    @Test func stringErrorsKeepTheirText() throws {
        try expectHostileLayout("    error(\"out of ideas\") --here", kind: .runtime, contains: "layout: out of ideas",
                                lineMarker: "--here")
    }

    @Test func errorLevelTwoPointsAtTheCaller() throws {
        let prelude = "local function check(v) if not v then error(\"check failed\", 2) end end"
        try expectHostileLayout("    check(false) --here", prelude: prelude, kind: .runtime, contains: "check failed",
                                lineMarker: "--here")
    }

    @Test func tableErrorsAreDescribed() throws {
        try expectHostileLayout("    error({code = 5}) --here", kind: .runtime, contains: "error object is a table value",
                                lineMarker: "--here")
    }

    @Test func nilErrorsAreDescribed() throws {
        try expectHostileLayout("    error(nil) --here", kind: .runtime, contains: "error object is nil", lineMarker: "--here")
    }

    @Test func numberAndBooleanErrorsAreDescribed() throws {
        try expectHostileLayout("    error(42) --here", kind: .runtime, contains: "error object is a number (42)",
                                lineMarker: "--here")
        try expectHostileLayout("    error(false) --here", kind: .runtime, contains: "error object is a boolean (false)",
                                lineMarker: "--here")
    }

    @Test func runtimeErrorsNameTheLine() throws {
        try expectHostileLayout("    local n = nil + 1 --here", kind: .runtime, contains: "attempt to perform arithmetic on a nil value",
                                lineMarker: "--here")
    }
}
