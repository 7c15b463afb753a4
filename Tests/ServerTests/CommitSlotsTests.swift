@testable import Server
import Testing

@Suite("Commit slots")
struct CommitSlotsTests {
    @Test("an explicit commit is refused while every slot commits, and drains what releases left waiting")
    func explicitCommitsTakeAFreeSlotOrNone() {
        let slots = CommitSlots()
        slots.setLimit(1)
        var order: [String] = []
        slots.runOnRelease(1) { id in
            order.append("release \(id)")
            guard id == 1 else { return }
            // While this release commit holds the only slot, another release waits and an explicit commit is refused.
            slots.runOnRelease(2) { order.append("release \($0) at once") }
            #expect(!slots.runNow({ order.append("explicit at once") }, thenDraining: { order.append("drained \($0)") }))
            #expect(slots.usage == (running: 1, limit: 1))
        }
        #expect(order == ["release 1", "release 2"], "the waiting file runs on the worker holding the slot")
        #expect(slots.usage.running == 0)

        order = []
        #expect(slots.runNow({
            order.append("explicit")
            slots.runOnRelease(3) { order.append("release \($0) at once") }
        }, thenDraining: { order.append("drained \($0)") }))
        #expect(order == ["explicit", "drained 3"], "a file released during an explicit commit is committed after it")
        #expect(slots.usage.running == 0)
    }

    @Test("a removed file's waiting place and last failure are forgotten")
    func forgettingAFile() {
        let slots = CommitSlots()
        #expect(slots.isNews(7, failure: "no space"))
        #expect(!slots.isNews(7, failure: "no space"), "the same failure again is not news")
        slots.forget(7)
        #expect(slots.isNews(7, failure: "no space"), "after a removal, a new file's failure is news")

        var committed: [UInt64] = []
        slots.runOnRelease(1) { id in
            committed.append(id)
            if id == 1 {
                slots.runOnRelease(8) { committed.append($0) }
                slots.forget(8)
            }
        }
        #expect(committed == [1], "a file removed while it waited is not committed")
    }
}
