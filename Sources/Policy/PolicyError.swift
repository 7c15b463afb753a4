#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The policy hooks the host calls.
public enum PolicyHook: String, Sendable, CaseIterable {
    case layout
    case placement
    case onRelease = "on_release"
    case resolveDevice = "resolve_device"
    /// Loading the policy file and running its top-level code.
    case load
}

/// Why a policy could not load or a hook call failed. Its description reads
/// `stripe.lua:42: layout: extents[1].strips[0].offset: 0x1000 is not a multiple of 0x200000`.
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The policy or a module it requires does not parse.
        case syntax
        /// The script raised an error (including stack overflows and host-function misuse).
        case runtime
        /// The call ran past its instruction budget.
        case instructionBudget
        /// The call ran past its time limit.
        case timeLimit
        /// The state ran past its memory cap.
        case memory
        /// A hook returned a value of the wrong shape or type.
        case badReturn
        /// A layout's fmap is well formed but breaks a kernel limit, a device bound, or
        /// points at memory the call did not allocate.
        case invalidFmap
        /// The allocator had no room for an `alloc` the script did not recover from.
        case allocation
        /// The policy lacks a required hook (`layout`).
        case missingHook
        /// The policy file or folder could not be read.
        case unreadable
    }

    public var kind: Kind
    /// The chunk the error points into, e.g. `stripe.lua` or `lib/famfs.lua`.
    public var file: String
    /// 1-based line; nil when no line is known.
    public var line: Int?
    public var hook: PolicyHook
    /// The offending part of a return value, e.g. `extents[1].strips[0].offset`; empty if none.
    public var field: String
    /// What went wrong, starting with `field` when there is one.
    public var message: String

    public init(kind: Kind, file: String, line: Int?, hook: PolicyHook, field: String = "", message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.hook = hook
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return "\(location): \(hook.rawValue): \(message)"
    }

    /// The errno the daemon should answer with: ENOSPC when memory ran out, EIO otherwise.
    public var errno: Int32 {
        switch kind {
        case .allocation: return ENOSPC
        case .syntax, .runtime, .instructionBudget, .timeLimit, .memory, .badReturn, .invalidFmap, .missingHook, .unreadable:
            return EIO
        }
    }
}
