import ArgumentParser
import Foundation

/// Turns a results file into BENCHMARKS.md: the command, the machine, the targets with their
/// ratios, and every measurement next to its baseline.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write BENCHMARKS.md from a results file.")

    @Option(help: ArgumentHelp("The results file the other subcommands appended to.", valueName: "file"))
    var results: String

    @Option(help: ArgumentHelp("Where to write the report.", valueName: "file"))
    var output = "BENCHMARKS.md"

    @Option(help: ArgumentHelp("The command that produced the results, quoted in the report.", valueName: "text"))
    var command: String

    @Option(help: ArgumentHelp("A line for the setup section (repeatable).", valueName: "text"))
    var note: [String] = []

    func run() throws {
        var values: [String: Double] = [:]
        for line in try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count >= 2, let value = Double(fields[1]) { values[String(fields[0])] = value }
        }
        let text = Report(values: values, command: command, notes: note).markdown()
        try text.write(toFile: output, atomically: true, encoding: .utf8)
        print(text)
    }
}

struct Report {
    let values: [String: Double]
    let command: String
    let notes: [String]

    /// What the I/O tables compare, by result-key target name.
    static let dax = "dax", peer = "passthrough_ll", passthroughFile = "passthrough_file", direct = "backing_direct"

    func markdown() -> String {
        var lines = ["# Benchmarks", "",
                     "Produced by `scripts/bench` (Benchmarks/famfs-bench); rerun it to refresh this file. Ratios compare",
                     "measurements of the same run. Not part of the tests or CI.", "",
                     "```sh", command, "```", "",
                     "## Machine", ""]
        lines += Machine.facts().map { "- \($0.0): \($0.1)" }
        lines += [""] + notes.map { "- \($0)" }
        lines += ["", "## Targets", "", "| target | measured | goal | met |", "| --- | --- | --- | --- |"]
        lines += targets().map { "| \($0.name) | \($0.measured) | \($0.goal) | \($0.met) |" }
        lines += ["", "## File I/O (MB/s, O_DIRECT requests of the given size)", "",
                  "`dax`: a striped DAX file through the famfs-policyd mount, served by the daemon from the mapped devices (this kernel has no famfs). "
                    + "`passthrough_ll`: libfuse's example serving a /dev/shm file. `pt file`: a famfs-policyd passthrough file (kernel FUSE passthrough). "
                    + "`direct`: its backing file read and written directly.", "",
                  "| op | pattern | size | threads | dax | passthrough_ll | dax / pll | dax / limit | pt file | direct | pt / direct |",
                  "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        let limit = values["limit.read.seq.1m.1t"]
        for op in ["read", "write"] {
            for pattern in ["seq", "rand"] {
                for size in ["4k", "128k", "1m"] {
                    for threads in ["1t", "4t"] {
                        let key = { (target: String) in values["io.\(target).\(op).\(pattern).\(size).\(threads)"] }
                        let (dax, peer, file, direct) = (key(Self.dax), key(Self.peer), key(Self.passthroughFile), key(Self.direct))
                        lines.append("| \(op) | \(pattern) | \(size) | \(threads.dropLast()) | \(number(dax)) | \(number(peer)) | "
                                     + "\(ratio(dax, peer)) | \(op == "read" ? ratio(dax, limit) : "") | \(number(file)) | \(number(direct)) | \(ratio(file, direct)) |")
                    }
                }
            }
        }
        lines += ["", "Memory limit (one thread copying the DAX file's bytes from the mapped device files, 1 MiB at a time): \(number(limit)) MB/s.", "",
                  "The memory limit depends on the host more than anything measured against it: hosts of the same kind have copied "
                    + "from 8.5 to 17.8 GB/s with one thread, and the DAX file's single-reader 1 MiB read, about 5.5 GB/s on each, was 0.32x "
                    + "of the fastest. What is left of a DAX read's cost is in the kernel: famfs-policyd answers READ with one writev straight "
                    + "from the device mapping, and the kernel pins and copies the reader's pages one 4 KiB page at a time (`perf`: "
                    + "fuse_copy_folio, get_user_pages), which no server can avoid on a kernel without famfs.", "",
                  "Before each WRITE to a file of the mount the kernel asks famfs-policyd for the `security.capability` extended attribute "
                    + "(to know whether the write must drop privileges): one more round trip per write, for DAX and passthrough files alike. "
                    + "passthrough_ll declines extended attributes altogether, so the kernel stops asking it.", "",
                  "Buffered sequential 1 MiB reads from a cold page cache, one thread, one pass: "
                    + [Self.dax, Self.peer, Self.passthroughFile, Self.direct].map {
                        "\($0) \(number(values["io.\($0).read.buffered.1m.1t"])) MB/s"
                    }.joined(separator: ", ") + ".",
                  "", "## Metadata (one thread, \(count("meta.files")) empty files in one directory)", "",
                  "This part alone: `scripts/bench metadata` (prints this section and the metadata target rows). "
                    + "The three servers are mounted together and each round runs one cycle on each in turn, so a ratio "
                    + "compares cycles run seconds apart; each phase keeps its best round.", "",
                  "| phase | famfs-policyd | passthrough_ll | ratio | passthrough_ll -o default_permissions | ratio |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for phase in ["create", "stat", "readdir", "unlink", "cycle"] {
            let (ours, peer) = (values["meta.\(Self.dax).\(phase)"], values["meta.\(Self.peer).\(phase)"])
            let checkedPeer = values["meta.\(Self.peer)_default_permissions.\(phase)"]
            lines.append("| \(phase == "cycle" ? "whole cycle (files/s)" : phase + " (ops/s)") | \(number(ours)) | \(number(peer)) | \(ratio(ours, peer)) | "
                         + "\(number(checkedPeer)) | \(ratio(ours, checkedPeer)) |")
        }
        lines += ["", "famfs-policyd mounts with `default_permissions`: the kernel checks permissions itself, so after each create or unlink "
                  + "it asks for the directory's attributes again (one more round trip). A create is LOOKUP, CREATE, GETATTR of the directory "
                  + "and RELEASE (famfs-policyd declines FLUSH, so a close sends none); an unlink is GETATTR of the directory, UNLINK and FORGET. "
                  + "passthrough_ll by default leaves permission checks to the backing file system, so it gets no GETATTR but answers FLUSH; "
                  + "the last columns mount it with `default_permissions` too. Both servers let the kernel "
                  + "cache names and attributes for 1 s, so stat, which follows create, looks up again every file created more than "
                  + "1 s before it: a slower create phase shows again, amplified, in stat."]
        lines += ["", "## Policy cost", "",
                  "Layouts per second of the measuring thread's CPU time: the median of 15 short rounds in which Lua and Swift take turns; "
                  + "the ratio is the median of the rounds' own ratios. This part alone: "
                  + "`famfs-bench layouts --policy policies/stripe.lua --results FILE` (a release build).", "",
                  "| measurement | Lua (stripe.lua) | Swift | Swift / Lua |", "| --- | ---: | ---: | ---: |"]
        for size in ["32m", "1g"] {
            let (lua, swift) = (values["policy.layouts.lua.16way.\(size)"], values["policy.layouts.swift.16way.\(size)"])
            lines.append("| layouts/s, 16 devices, \(size == "32m" ? "32 MiB files (16 strips of 2 MiB)" : "1 GiB files (16 strips of 64 MiB)") | \(number(lua)) | \(number(swift)) | \(ratio(values["policy.layouts.ratio.16way.\(size)"], 1)) |")
        }
        lines += ["", "Where a stripe.lua layout's time goes (`perf record --call-graph dwarf` of `famfs-bench layouts --only lua`, 32 MiB files): "
                    + "the script's own VM work, picking 16 devices with room, about 27%, of which Lua 5.4's stop at every VM instruction while "
                    + "the instruction budget's count hook is set is about 7%; `alloc_interleaved` 28%, of which the allocator both sides share "
                    + "is 8% and keeping each device's `free` current in the script's tables most of the rest; the file facts table, with the "
                    + "garbage collection its allocations bring on, 9%; publishing `free` before the call 6% (the benchmark releases each "
                    + "layout, so every device's `free` changes between calls); decoding the result, validating it and matching it to the "
                    + "call's allocations 9%. The Swift side spends most of its time in that shared allocator, so making the allocator faster "
                    + "raises the ratio: taking the run-time exclusivity checks out of it made both sides faster by the same time per layout "
                    + "and moved the ratio from about 5x to about 6x in back-to-back runs. With 1 GiB files the allocator's work per strip grows on both sides "
                    + "while the policy's fixed cost per call does not, so the ratio is lower. stripe.lua returns `alloc_interleaved`'s fmap, "
                    + "built by the host without a table per strip; returning the same fmap as Lua tables (`alloc_strips`) runs about half as fast."]
        lines += ["", "| round trip through the in-process server (posted profile, socketpair) | median µs | p99 µs |", "| --- | ---: | ---: |"]
        for (label, key) in [("GET_FMAP", "get_fmap"), ("GETATTR (floor)", "getattr")] {
            lines.append("| \(label) | \(number(values["fmap.\(key).median"], digits: 1)) | \(number(values["fmap.\(key).p99"], digits: 1)) |")
        }
        lines += ["", "## Daemon memory", "",
                  "| state | VmRSS MiB | RssAnon MiB |", "| --- | ---: | ---: |",
                  "| mounted, empty | \(mib(values["rss.empty.vmrss_kib"])) | \(mib(values["rss.empty.anon_kib"])) |",
                  "| \(count("rss.files")) empty files created and stat'ed | \(mib(values["rss.files.vmrss_kib"])) | \(mib(values["rss.files.anon_kib"])) |",
                  ""]
        return lines.joined(separator: "\n")
    }

    struct Target {
        var name: String
        var measured: String
        var goal: String
        var met: String
    }

    func targets() -> [Target] {
        func check(_ name: String, _ value: Double?, _ goal: String, _ passes: (Double) -> Bool, digits: Int = 2, unit: String = "x") -> Target {
            guard let value else { return Target(name: name, measured: "not yet available", goal: goal, met: "—") }
            return Target(name: name, measured: String(format: "%.\(digits)f", value) + unit, goal: goal, met: passes(value) ? "yes" : "**no**")
        }
        func quotient(_ a: String, _ b: String) -> Double? {
            guard let a = values[a], let b = values[b], b > 0 else { return nil }
            return a / b
        }
        let daxRead = "io.\(Self.dax).read.seq.1m.1t"
        let rss = values["rss.files.vmrss_kib"].map { $0 / 1024 }
        return [
            check("DAX file seq 1 MiB read / passthrough_ll", quotient(daxRead, "io.\(Self.peer).read.seq.1m.1t"), "≥ 1.0x") { $0 >= 1.0 },
            check("DAX file seq 1 MiB read / memory limit", quotient(daxRead, "limit.read.seq.1m.1t"), "≥ 0.4x") { $0 >= 0.4 },
            check("DAX file seq 1 MiB read, 4 readers / memory limit", quotient("io.\(Self.dax).read.seq.1m.4t", "limit.read.seq.1m.1t"), "(≥ 0.4x)") { $0 >= 0.4 },
            check("passthrough file seq 1 MiB read / direct read", quotient("io.\(Self.passthroughFile).read.seq.1m.1t", "io.\(Self.direct).read.seq.1m.1t"), "≥ 0.9x") { $0 >= 0.9 },
            check("metadata cycle / passthrough_ll", quotient("meta.\(Self.dax).cycle", "meta.\(Self.peer).cycle"), "≥ 1.0x") { $0 >= 1.0 },
            check("metadata cycle / passthrough_ll -o default_permissions",
                  quotient("meta.\(Self.dax).cycle", "meta.\(Self.peer)_default_permissions.cycle"), "(≥ 1.0x)") { $0 >= 1.0 },
            check("daemon RSS with \(count("rss.files")) files", rss, "≤ 100 MiB", { $0 <= 100 }, digits: 1, unit: " MiB"),
            check("stripe.lua layouts/s, 16-way", values["policy.layouts.lua.16way.32m"], "≥ 50,000", { $0 >= 50_000 }, digits: 0, unit: ""),
            check("Swift / Lua layouts/s, 16-way", values["policy.layouts.ratio.16way.32m"], "≤ 3x") { $0 <= 3 },
        ]
    }

    private func count(_ key: String) -> String {
        values[key].map { Int($0).formatted() } ?? "?"
    }

    private func number(_ value: Double?, digits: Int = 0) -> String {
        guard let value else { return "n/a" }
        return digits == 0 ? Int(value.rounded()).formatted() : String(format: "%.\(digits)f", value)
    }

    private func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "" }
        return String(format: "%.2fx", a / b)
    }

    private func mib(_ kib: Double?) -> String {
        kib.map { String(format: "%.1f", $0 / 1024) } ?? "n/a"
    }
}

/// The facts about this machine that the numbers depend on.
enum Machine {
    static func facts() -> [(String, String)] {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memory = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Double($0) } }
            .map { String(format: "%.1f GiB", $0 / 1024 / 1024) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return [("CPUs (nproc)", "\(ProcessInfo.processInfo.activeProcessorCount)"), ("CPU model", model),
                ("memory", memory), ("kernel", "Linux \(release) \(machine)")]
    }
}
