import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the files a policy may `require`: only under the policy's own folder.
///
/// A module name is dot-separated segments of letters, digits, `_` and `-`
/// (`lib.famfs` → `lib/famfs.lua`). Absolute names and `..` are refused by name, and a
/// file whose real path (symlinks resolved) leaves the folder is refused by path.
///
/// A module's text is kept once read, so every state of one `PolicyScript` that requires it
/// runs the same code. Only modules found are kept (a folder holds finitely many), so a
/// policy asking for ever new missing names cannot grow the daemon's memory.
final class PolicyModuleResolver: Sendable {
    /// The policy folder with symlinks resolved.
    let folder: String
    private let found = Mutex<[String: Module]>([:])

    init(folder: String) { self.folder = folder }

    struct Module: Sendable {
        var chunkName: String
        var text: [UInt8]
    }

    /// The module `name`, as it was the first time it was found.
    func load(_ name: String) throws(ModuleError) -> Module {
        if let module = found.withLock({ $0[name] }) { return module }
        let module = try find(name)
        return found.withLock { found in
            if let first = found[name] { return first }
            found[name] = module
            return module
        }
    }

    private func find(_ name: String) throws(ModuleError) -> Module {
        if name.hasPrefix("/") { throw .refused("module '\(name)': absolute names are not allowed") }
        if name.contains("..") { throw .refused("module '\(name)': '..' is not allowed; modules live under the policy folder") }
        let segments = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isNameCharacter) }) else {
            throw .refused("module '\(name)': a name is dot-separated letters, digits, '_' and '-' (lib.famfs → lib/famfs.lua)")
        }
        let relative = segments.joined(separator: "/") + ".lua"
        let candidate = folder + "/" + relative
        guard let real = Self.realPath(candidate) else {
            throw .refused("module '\(name)': no file \(relative) in the policy folder")
        }
        guard real.hasPrefix(folder + "/") else {
            throw .refused("module '\(name)': \(relative) resolves to \(real), outside the policy folder")
        }
        guard let text = Self.readRegularFile(real) else {
            throw .refused("module '\(name)': \(relative) is not a readable regular file")
        }
        return Module(chunkName: "@" + relative, text: text)
    }

    private static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-")
    }

    /// The path with every symlink resolved, or nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The whole contents of a regular file, or nil.
    static func readRegularFile(_ path: String) -> [UInt8]? {
        // Without O_NONBLOCK, opening a FIFO would wait for a writer, inside a hook call.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
        }
    }
}

struct ModuleError: Error, Sendable {
    var message: String
    static func refused(_ message: String) -> ModuleError { ModuleError(message: message) }
}
