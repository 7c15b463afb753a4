/// The rule for a passthrough file's backing path, shared by the policy runtime (which
/// refuses a bad `placement` answer) and the daemon's staging directory (which walks it).
public enum BackingPath {
    /// Why `path` cannot name a file inside the staging directory, or nil when it can:
    /// it must be relative, with no empty, `.` or `..` component.
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "is empty" }
        if path.hasPrefix("/") { return "is absolute; it must be relative to the daemon's --staging directory" }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            return "has an empty, '.' or '..' component"
        }
        return nil
    }
}
