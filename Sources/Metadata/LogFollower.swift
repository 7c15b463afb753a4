/// What one look at a log found since the previous look.
public struct LogProgress: Sendable, Equatable {
    /// Entries committed since the previous look, valid and claimed, in log order.
    public var entries: [IndexedEntry] = []
    /// What was wrong on the way; each is reported once.
    public var findings: [ReplayFinding] = []

    public init(entries: [IndexedEntry] = [], findings: [ReplayFinding] = []) {
        self.entries = entries
        self.findings = findings
    }

    public var isEmpty: Bool { entries.isEmpty && findings.isEmpty }
}

/// Keeps a replayed log up to date on a host that does not write it (a follower).
///
/// The writer's commit point is the header's `next_index`: it writes and flushes an entry,
/// then bumps and flushes the header. So a follower reads the header first and consumes only
/// slots below `next_index`, each checked by crc and seqnum; the bytes of an append still in
/// progress lie at or past `next_index` and are never looked at.
///
/// A checksum failure in the last committed slot is what a writer that crashed mid-append
/// leaves (or, on memory without cross-host coherence, a write not yet visible): the follower
/// reports it once and retries it on every look, because the next writer reuses that slot. Any
/// other damaged entry is a fault: reported, never served, and skipped, as replay does.
public struct LogFollower: Sendable {
    /// The state the log describes so far; `replay.appendIndex` is the next slot to consume.
    public private(set) var replay: LogReplay
    /// The torn slot already reported, so retries stay quiet.
    private var reportedTorn: UInt64?
    /// Set once the log went backwards; nothing is consumed after that.
    private var rewound = false

    /// Follows on from `replay`, the state at open.
    public init(continuing replay: LogReplay) {
        self.replay = replay
        for case .tornLastEntry(let index, _) in replay.findings { reportedTorn = index }
    }

    /// Consumes the slots `[consumed, header.nextIndex)`; `slot(i)` returns the bytes of slot `i`.
    public mutating func follow(header: LogHeader, slot: (UInt64) -> ArraySlice<UInt8>) -> LogProgress {
        var progress = LogProgress()
        guard !rewound else { return progress }
        var index = replay.appendIndex
        guard header.nextIndex >= index else {
            rewound = true
            progress.findings.append(.logRewound(nextIndex: header.nextIndex, consumed: index))
            return progress
        }
        let firstNew = replay.entries.count
        while index < header.nextIndex {
            let entry: LogEntry
            do {
                entry = try LogEntry(decoding: slot(index), index: index)
            } catch {
                if index == header.nextIndex - 1, case .checksumMismatch = error {
                    if reportedTorn != index { progress.findings.append(.tornLastEntry(index: index, error)) }
                    reportedTorn = index
                    break
                }
                progress.findings.append(.invalidEntry(index: index, error))
                index += 1
                continue
            }
            if let finding = replay.admit(IndexedEntry(index: index, entry: entry)) {
                progress.findings.append(finding)
            }
            index += 1
        }
        replay.appendIndex = index
        progress.entries = Array(replay.entries[firstNew...])
        replay.findings += progress.findings
        return progress
    }

    /// Drops the entries already handed out, which the caller keeps; the state they claimed stays.
    mutating func forgetConsumedEntries() {
        replay.entries.removeAll()
    }
}
