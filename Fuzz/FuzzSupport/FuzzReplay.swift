import Foundation

/// The replay half of every fuzz target: built without `--sanitize=fuzzer`, a target runs
/// `body` on each file named on the command line (or each file in a named directory), so
/// the normal build can replay the committed corpus and any crash input.
public enum FuzzReplay {
    /// Runs `body` on every input and prints how many ran; exits 2 when given nothing to run.
    public static func main(_ arguments: [String], _ body: ([UInt8]) -> Void) {
        let inputs = arguments.flatMap(files(at:))
        guard !inputs.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) FILE|DIR... (replays inputs; build with --sanitize=fuzzer to fuzz)\n".utf8))
            exit(2)
        }
        for path in inputs {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(1)
            }
            body([UInt8](data))
        }
        print("replayed \(inputs.count) inputs")
    }

    private static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { "\(path)/\($0)" }.filter { name in
            var nested: ObjCBool = false
            return FileManager.default.fileExists(atPath: name, isDirectory: &nested) && !nested.boolValue
        }
    }

    /// Stops the process with a message: a property the decoder promises does not hold.
    public static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("property violated: \(message)\n".utf8))
        abort()
    }
}
