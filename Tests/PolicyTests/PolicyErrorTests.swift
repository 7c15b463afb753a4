import Testing
@testable import Policy

@Test func policyErrorsReadAsFileLineHookMessage() {
    let error = PolicyError(kind: .invalidFmap, file: "stripe.lua", line: 42, hook: .layout,
                            field: "extents[1].strips[0].offset",
                            message: "extents[1].strips[0].offset: 0x1000 is not a multiple of 0x200000")
    #expect(error.description == "stripe.lua:42: layout: extents[1].strips[0].offset: 0x1000 is not a multiple of 0x200000")
}

@Test func allocationFailuresSuggestENOSPCAndOthersEIO() {
    let base = PolicyError(kind: .allocation, file: "p.lua", line: 1, hook: .layout, message: "no space")
    #expect(base.errno == 28)
    var other = base
    for kind in [PolicyError.Kind.runtime, .instructionBudget, .memory, .badReturn, .invalidFmap] {
        other.kind = kind
        #expect(other.errno == 5)
    }
}
