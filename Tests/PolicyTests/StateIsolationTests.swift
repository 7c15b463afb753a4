import Dispatch
import Foundation
import Policy
import Testing

/// One runtime per worker thread, and reloads that never leave a worker without a policy.
@Suite struct StateIsolationTests {
    @Test func runtimesOnDifferentThreadsShareNothing() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            local calls = 0
            function layout(file, devices)
              calls = calls + 1
              assert(config.worker == file.path:sub(2), "saw another worker's config")
              return { ext_type = "simple", extents = { alloc(0, file.size) } }
            end
            function on_release(file) return calls == tonumber(file.path:match("%d+$")) end
            """])
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            do {
                let runtime = try fixture.runtime(config: ["worker": String(worker)])
                let allocator = fixture.allocator()
                for _ in 0..<500 { _ = try runtime.layout(for: FileFacts(path: "/\(worker)", size: 1), allocator: allocator) }
                results.record(try runtime.shouldCommitOnRelease(FileFacts(path: "/count/500", size: 1)))
            } catch {
                results.record(false)
            }
        }
        #expect(results.values == [true, true, true, true])
    }

    @Test func aBrokenReloadLeavesTheRunningPolicyUntouched() throws {
        let fixture = try PolicyFixture([
            "policy.lua": "function layout(file, devices) return { ext_type = \"simple\", extents = { alloc(0, 1) } } end\n",
            "broken.lua": "function layout(file, devices)\n",
        ])
        let running = try fixture.runtime()
        #expect(throws: PolicyError.self) { try fixture.runtime("broken.lua") }
        _ = try running.layout(for: FileFacts(path: "/a", size: 1), allocator: fixture.allocator())
    }
}

/// Collects results from concurrent workers.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Bool] = []

    func record(_ value: Bool) {
        lock.lock()
        values.append(value)
        lock.unlock()
    }
}
