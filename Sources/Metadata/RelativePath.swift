/// A path relative to the mount point, as famfs's log stores it: at most 79 bytes (the field
/// is 80 with its NUL), no leading `/`, no empty, `.` or `..` components.
public struct RelativePath: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let string: String

    /// Most bytes a path may have.
    public static let maxBytes = FamfsMedia.relativePathField - 1

    /// Validates `string`; a path too long for famfs's field throws `.pathTooLong` (ENAMETOOLONG).
    public init(_ string: String) throws(MediaFormatError) {
        let bytes = string.utf8.count
        guard bytes > 0 else { throw .invalidPath(string, reason: "is empty") }
        guard !string.hasPrefix("/") else {
            throw .invalidPath(string, reason: "starts with '/'; famfs stores paths relative to the mount point")
        }
        guard !string.utf8.contains(0) else { throw .invalidPath(string, reason: "contains a NUL byte") }
        let components = string.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw .invalidPath(string, reason: "has an empty, '.' or '..' component")
        }
        // Last, so that a path too long is known to be otherwise one famfs could hold.
        guard bytes <= Self.maxBytes else { throw .pathTooLong(string, bytes: bytes) }
        self.string = string
    }

    /// The path's components, parent first.
    public var components: [Substring] { string.split(separator: "/") }

    public var description: String { string }

    public static func < (lhs: RelativePath, rhs: RelativePath) -> Bool { lhs.string < rhs.string }
}
