import ArgumentParser
import CSystemExtras
import Foundation

/// `famfs-policy commit PATH...`: commits passthrough files to DAX through the mount and waits.
struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit passthrough files to DAX memory and wait until each is done.",
        discussion: """
            Each file is laid out by the mount's policy, copied into device memory and logged; \
            then the staged copy is removed. A file must be closed for writing first. Files of \
            64 MiB and more show progress. While the daemon's committing workers are all busy \
            (all but one of its workers), the command waits its turn: as long as it takes, \
            or up to --max-wait seconds per file.

            Examples:
              famfs-policy commit /mnt/famfs/datasets/shard-0001.bin
              famfs-policy commit --max-wait 30 /mnt/famfs/datasets/*.bin
            """)

    @Argument(help: ArgumentHelp("Files in a famfs-policyd mount.", valueName: "path"))
    var paths: [String]

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    @Option(help: ArgumentHelp("Give up on a file whose commit cannot start within this many seconds because every commit slot stays busy (default: wait as long as it takes).",
                               valueName: "seconds"))
    var maxWait: Double?

    func validate() throws {
        if let maxWait, !(maxWait >= 0 && maxWait.isFinite) {
            throw ValidationError("--max-wait: \(maxWait) is not a number of seconds (0 or more)")
        }
    }

    func run() throws {
        var failures = 0
        for path in paths {
            do {
                let outcome = try commit(path)
                if !quiet { print(outcome == .alreadyDAX ? "already DAX: \(path)" : "committed \(path)") }
            } catch {
                failures += 1
                FileHandle.standardError.write(Data("famfs-policy commit: \(path): \(error)\n".utf8))
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    struct CommitError: Error, CustomStringConvertible {
        var description: String
    }

    enum Outcome { case committed, alreadyDAX }

    /// Commits `path`, or waits for the commit already running on it (one its last close
    /// started); a file that is DAX already is left as it is. While every worker the daemon
    /// lets commit is busy, asks again every 0.2 s, for up to `maxWait` seconds.
    private func commit(_ path: String) throws -> Outcome {
        var toldWaiting = false
        let started = ProcessInfo.processInfo.systemUptime
        while true {
            switch Self.attribute("user.famfs.mode", of: path) {
            case "dax": return .alreadyDAX
            case "passthrough": break
            default:
                guard access(path, F_OK) == 0 else { throw CommitError(description: String(cString: strerror(errno))) }
                throw CommitError(description: "not a file in a famfs-policyd mount (it has no user.famfs.mode)")
            }
            if let outcome = try commitOnce(path) { return outcome }
            if let maxWait, ProcessInfo.processInfo.systemUptime - started >= maxWait {
                throw CommitError(description: "every commit slot stayed busy for \(maxWait.formatted()) s (--max-wait); the file is still passthrough, commit it again later")
            }
            if !quiet && !toldWaiting {
                FileHandle.standardError.write(Data("\(path): waiting for the other commits to finish\n".utf8))
                toldWaiting = true
            }
            usleep(200_000)
        }
    }

    /// One `user.famfs.commit` request; nil when every commit slot was busy: try again later.
    private func commitOnce(_ path: String) throws -> Outcome? {
        let progress = quiet ? nil : ProgressReporter(path: path)
        progress?.start()
        defer { progress?.stop() }
        var slotsWereFree = false
        while setxattr(path, "user.famfs.commit", "1", 1, 0) != 0 {
            let code = errno
            let reason = String(cString: strerror(code))
            switch code {
            case EBUSY where Self.attribute("user.famfs.commit_progress", of: path) != nil:
                return try waitForRunningCommit(path)
            case EBUSY where Self.commitSlotsAreBusy(mountOf: path):
                return nil
            case EBUSY where !slotsWereFree:
                slotsWereFree = true // a slot may have come free since the refusal: ask once more
                continue
            case ENOTSUP, EOPNOTSUPP:
                throw CommitError(description: "\(reason): is this file in a famfs-policyd mount?")
            case EBUSY:
                throw CommitError(description: "\(reason): close the file for writing, then commit again")
            case EINVAL:
                throw CommitError(description: "\(reason): only non-empty passthrough files can be committed (the daemon log says why)")
            default:
                throw CommitError(description: "\(reason) (the daemon log says why)")
            }
        }
        return .committed
    }

    /// Whether the mount holding `path` has every commit slot busy, as its root's
    /// `user.famfs.stats` says (`commits_running` and `commit_slots`).
    static func commitSlotsAreBusy(mountOf path: String) -> Bool {
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        while true {
            if let stats = attribute("user.famfs.stats", of: directory.path, capacity: 4096),
               let counts = try? JSONDecoder().decode([String: UInt64].self, from: Data(stats.utf8)) {
                return (counts["commits_running"] ?? 0) >= (counts["commit_slots"] ?? UInt64.max)
            }
            guard directory.path != "/" else { return false }
            directory.deleteLastPathComponent()
        }
    }

    /// Waits while `path` shows a commit's progress; then it must be DAX.
    private func waitForRunningCommit(_ path: String) throws -> Outcome {
        while Self.attribute("user.famfs.commit_progress", of: path) != nil { usleep(50_000) }
        guard Self.attribute("user.famfs.mode", of: path) == "dax" else {
            throw CommitError(description: "the commit already running on it failed (the daemon log says why)")
        }
        return .committed
    }

    /// An extended attribute's value as text; nil when the file has none of that name (or
    /// it is longer than `capacity` bytes).
    static func attribute(_ name: String, of path: String, capacity: Int = 64) -> String? {
        var buffer = [UInt8](repeating: 0, count: capacity)
        let count = getxattr(path, name, &buffer, buffer.count)
        return count >= 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }
}

/// Prints a large commit's progress from the file's `user.famfs.commit_progress` xattr.
final class ProgressReporter: @unchecked Sendable {
    let path: String
    private let done = DispatchSemaphore(value: 0)
    private var thread: Thread?
    static let threshold: UInt64 = 64 << 20

    init(path: String) { self.path = path }

    func start() {
        let thread = Thread { [self] in
            var printed = false
            while done.wait(timeout: .now() + 0.25) == .timedOut {
                guard let (copied, total) = read(), total >= Self.threshold else { continue }
                let line = "\r\(path): \(copied * 100 / max(total, 1))% of \(total >> 20) MiB"
                FileHandle.standardError.write(Data(line.utf8))
                printed = true
            }
            if printed { FileHandle.standardError.write(Data("\n".utf8)) }
        }
        self.thread = thread
        thread.start()
    }

    func stop() { done.signal() }

    private func read() -> (UInt64, UInt64)? {
        guard let parts = CommitCommand.attribute("user.famfs.commit_progress", of: path)?.split(separator: " ").compactMap({ UInt64($0) }),
              parts.count == 2 else { return nil }
        return (parts[0], parts[1])
    }
}
