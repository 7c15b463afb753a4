import ArgumentParser
import Foundation

/// The benchmark harness `scripts/bench` drives: each subcommand measures one thing and
/// appends `key<TAB>value<TAB>unit` lines to a results file; `report` turns that file into
/// BENCHMARKS.md with ratios against each baseline.
@main
struct FamfsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "famfs-bench",
        abstract: "Benchmarks for famfs-policyd (run them all with scripts/bench).",
        subcommands: [IOCommand.self, MemoryLimitCommand.self, MetadataCommand.self, PopulateCommand.self,
                      LayoutCommand.self, FmapLatencyCommand.self, ReportCommand.self])
}

/// Where a subcommand's measurements go.
struct ResultsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Results file to append key/value/unit lines to.", valueName: "file"))
    var results: String

    func record(_ key: String, _ value: Double, _ unit: String) throws {
        print(String(format: "%-44@ %14.2f %@", key as NSString, value, unit as NSString))
        let line = "\(key)\t\(value)\t\(unit)\n"
        guard let handle = FileHandle(forWritingAtPath: results) else {
            try line.write(toFile: results, atomically: false, encoding: .utf8)
            return
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Parses 4K, 128K, 1M, 256M (powers of 1024) or plain bytes.
func byteCount(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
    guard let last = text.uppercased().last else { return nil }
    if let unit = units[last] { return Int(text.dropLast()).map { $0 * unit } }
    return Int(text)
}

/// `bytes` as the key spelling used in results: 4k, 128k, 1m.
func sizeKey(_ bytes: Int) -> String {
    bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20)m" : "\(bytes >> 10)k"
}
