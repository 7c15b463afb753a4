import Synchronization

/// A policy as read once from disk: the file's text, and each module it `require`s as that
/// module was first read. Every Lua state loaded from one script runs the same policy file
/// and the same modules once they have been required, whatever the files say later (a
/// module first required inside a hook is read then); reading the files again means making
/// a new script.
public final class PolicyScript: Sendable {
    /// The policy file as given.
    public let path: String
    /// The file's name, as errors and logs name the policy.
    public let name: String
    let text: [UInt8]
    let modules: PolicyModuleResolver
    /// Warnings about the text already logged: every state loaded from it finds the same ones.
    private let loggedWarnings = Mutex<Set<String>>([])

    /// Reads `path`; throws `.unreadable` naming it if it is not a readable regular file.
    public init(path: String) throws(PolicyError) {
        self.path = path
        name = path.split(separator: "/").last.map(String.init) ?? path
        guard let realFile = PolicyModuleResolver.realPath(path),
              let text = PolicyModuleResolver.readRegularFile(realFile) else {
            throw PolicyError(kind: .unreadable, file: name, line: nil, hook: .load,
                              message: "cannot read the policy file \(path)")
        }
        self.text = text
        modules = PolicyModuleResolver(folder: String(realFile[..<(realFile.lastIndex(of: "/") ?? realFile.startIndex)]))
    }

    /// Whether `warning` about the script's text is logged for the first time (and now counts as logged).
    func isFirstLogging(_ warning: String) -> Bool {
        loggedWarnings.withLock { $0.insert(warning).inserted }
    }
}
