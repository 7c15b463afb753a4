import Foundation

/// The repository root.
let repository: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// The documents whose examples must work.
let documents = ["README.md", "docs/policy-api.md", "docs/walkthrough.md"]

/// A fenced code block of a Markdown document.
struct CodeBlock: CustomStringConvertible {
    var document: String
    /// 1-based line of the opening fence.
    var line: Int
    /// The fence's info string, e.g. `lua` or `sh`.
    var language: String
    var text: String
    /// The file this block is a piece of, from an HTML comment `<!-- path -->` just before it.
    var pieceOf: String?

    var description: String { "\(document):\(line)" }

    /// Every fenced block of `document` (relative to the repository).
    static func all(in document: String) throws -> [CodeBlock] {
        let lines = try String(contentsOfFile: repository + "/" + document, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [CodeBlock] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix("```") else { index += 1; continue }
            let language = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
            let previous = index > 0 ? lines[index - 1].trimmingCharacters(in: .whitespaces) : ""
            let piece = previous.hasPrefix("<!--") && previous.hasSuffix("-->")
                ? previous.dropFirst(4).dropLast(3).trimmingCharacters(in: .whitespaces) : nil
            var body: [String] = []
            var end = index + 1
            while end < lines.count, !lines[end].hasPrefix("```") { body.append(lines[end]); end += 1 }
            blocks.append(CodeBlock(document: document, line: index + 1, language: language,
                                    text: body.joined(separator: "\n"), pieceOf: piece))
            index = end + 1
        }
        return blocks
    }

    /// The `famfs-policy eval` and `famfs-policy test` commands of a shell block, with
    /// continuation lines joined and comments dropped, as argument lists after `famfs-policy`.
    var policyCommands: [[String]] {
        var commands: [[String]] = []
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if let hash = line.range(of: " #") { line = String(line[..<hash.lowerBound]) }
            if line.hasPrefix("#") { line = "" }
            let continued = line.hasSuffix("\\")
            pending += (continued ? String(line.dropLast()) : line) + " "
            if continued { continue }
            let words = pending.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            pending = ""
            guard let first = words.first, first == "famfs-policy" || first == "$BIN/famfs-policy",
                  words.count > 1, ["eval", "test"].contains(words[1]) else { continue }
            commands.append(Array(words.dropFirst()))
        }
        return commands
    }
}

/// An executable of the package (`famfs-policy`, `famfs-policyd`) built beside the tests.
func builtExecutable(_ name: String) -> String? {
    let folder = Bundle.main.bundleURL.deletingLastPathComponent()
    for candidate in [folder, Bundle.main.bundleURL] {
        let path = candidate.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// Runs `executable` with `arguments` in the repository root; exit status and output.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: repository)
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
