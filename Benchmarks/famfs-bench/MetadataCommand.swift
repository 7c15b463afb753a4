import ArgumentParser
import Foundation

/// create, stat, readdir and unlink of many empty files in one directory, single-threaded.
/// In famfs a file that never got a size is not logged and can be removed, so this is the
/// metadata cycle famfs-policyd and an ordinary file system can both run.
///
/// Several targets are measured round by round (each round runs every target once, in an
/// order that rotates), so a ratio compares cycles run minutes, not phases, apart: on a
/// shared VM the machine's speed drifts between the two.
struct MetadataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata",
        abstract: "create + stat + readdir + unlink of N empty files in a new directory, per target.")

    @OptionGroup var output: ResultsOptions

    @Option(help: "Name of what is measured, the second part of each result key; repeat it with --dir for several targets.")
    var target: [String]

    @Option(help: ArgumentHelp("The target's directory to create (one per round, suffixed -1, -2, ...); they stay, empty (famfs cannot remove a logged directory).", valueName: "path"))
    var dir: [String]

    @Option(help: "Files.")
    var files = 10_000

    @Option(help: "Rounds; each phase keeps its best round.")
    var rounds = 3

    func validate() throws {
        guard !target.isEmpty, target.count == dir.count else {
            throw ValidationError("give one --dir per --target (\(target.count) targets, \(dir.count) directories)")
        }
    }

    func run() throws {
        var best = [[String: Double]](repeating: [:], count: target.count)
        for round in 1...max(1, rounds) {
            for k in target.indices {
                let t = (k + round - 1) % target.count
                for (phase, rate) in try cycle(in: "\(dir[t])-\(round)") { best[t][phase] = max(best[t][phase] ?? 0, rate) }
            }
        }
        for (t, name) in target.enumerated() {
            for phase in ["create", "stat", "readdir", "unlink"] {
                try output.record("meta.\(name).\(phase)", best[t][phase]!, "ops/s")
            }
            try output.record("meta.\(name).cycle", best[t]["cycle"]!, "files/s")
        }
    }

    /// One create, stat, readdir, unlink cycle in a new directory: each phase's rate, and the whole cycle's.
    private func cycle(in dir: String) throws -> [String: Double] {
        guard mkdir(dir, 0o755) == 0 else { throw failure("mkdir \(dir)") }
        let paths = (0..<files).map { "\(dir)/f\($0)" }
        var phases: [(String, Double)] = []
        let total = monotonicSeconds()
        try phases.append(("create", timed {
            for path in paths {
                let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
                guard descriptor >= 0 else { throw failure("create \(path)") }
                close(descriptor)
            }
        }))
        try phases.append(("stat", timed {
            var status = stat()
            for path in paths where stat(path, &status) != 0 { throw failure("stat \(path)") }
        }))
        try phases.append(("readdir", timed {
            guard let stream = opendir(dir) else { throw failure("opendir \(dir)") }
            defer { closedir(stream) }
            var seen = 0
            while let entry = readdir(stream) {
                if entry.pointee.d_name.0 != UInt8(ascii: ".") { seen += 1 }
            }
            guard seen == files else { throw IOWorkload.Failure(description: "readdir \(dir): \(seen) of \(files) entries") }
        }))
        try phases.append(("unlink", timed {
            for path in paths where unlink(path) != 0 { throw failure("unlink \(path)") }
        }))
        var rates = ["cycle": Double(files) / (monotonicSeconds() - total)]
        for (phase, seconds) in phases { rates[phase] = Double(files) / seconds }
        return rates
    }
}

/// Creates `files` empty files in `directories` subdirectories and stats them all, so the
/// daemon holds (and the kernel has looked up) every node; the daemon's RSS is read after.
struct PopulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populate",
        abstract: "Create and stat many empty files (for the daemon's memory at scale).")

    @Option(help: ArgumentHelp("An existing directory to fill.", valueName: "path"))
    var dir: String

    @Option(help: "Files.")
    var files = 100_000

    @Option(help: "Subdirectories the files are spread over.")
    var directories = 100

    func run() throws {
        let perDirectory = (files + directories - 1) / directories
        let start = monotonicSeconds()
        var status = stat()
        for d in 0..<directories {
            let folder = "\(dir)/d\(d)"
            guard mkdir(folder, 0o755) == 0 else { throw failure("mkdir \(folder)") }
            for f in 0..<min(perDirectory, files - d * perDirectory) {
                let path = "\(folder)/f\(f)"
                let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY, 0o644)
                guard descriptor >= 0 else { throw failure("create \(path)") }
                close(descriptor)
                guard stat(path, &status) == 0 else { throw failure("stat \(path)") }
            }
        }
        print("created \(files) files in \(directories) directories in \(String(format: "%.1f", monotonicSeconds() - start)) s")
    }
}

func timed(_ body: () throws -> Void) rethrows -> Double {
    let start = monotonicSeconds()
    try body()
    return monotonicSeconds() - start
}

func failure(_ what: String) -> IOWorkload.Failure {
    IOWorkload.Failure(description: "\(what): \(String(cString: strerror(errno)))")
}
