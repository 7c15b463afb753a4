/// The rule for a passthrough file's backing path, shared by the policy runtime (which
/// refuses a bad `placement` answer) and the daemon's staging directory (which walks it).
public enum BackingPath {
    /// Why `path` cannot name a file inside the staging directory, or nil when it can:
    /// it must be relative, with no empty, `.` or `..` component, and hold no NUL byte (the
    /// system would end the name there: `..\0` is `..`).
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.utf8.contains(0) { return "contains a NUL byte" }
        if path.hasPrefix("/") { return "is absolute; it must be relative to the daemon's --staging directory" }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "has an empty, '.' or '..' component"
        }
        return nil
    }
}

extension String {
    /// The text with each NUL byte written as `\0`, for error messages and logs.
    var withVisibleNULs: String { split(separator: "\0", omittingEmptySubsequences: false).joined(separator: "\\0") }
}
