import Foundation
import LogCapture
import Metadata
import Server
import Synchronization
import SystemPackage
import Testing

/// Lists `directory` of `namespace` as the kernel does, `pageSize` children per READDIR,
/// resuming after the last cookie; `between` runs before each page after the first.
private func pagedListing(of directory: UInt64, in namespace: inout Namespace, pageSize: Int,
                          between: (inout Namespace) -> Void) -> [String] {
    var names: [String] = []
    var cookie: UInt64 = 0
    while true {
        let page = namespace.children(of: directory, after: cookie, limit: pageSize)
        guard let last = page.last else { return names }
        names += page.map(\.name)
        cookie = last.cookie
        between(&namespace)
    }
}

@Suite("Directory listings")
struct DirectoryListingTests {
    @Test func childrenAreListedInTheOrderTheyWereAdded() throws {
        var namespace = Namespace(now: 0)
        for name in ["b", "c", "a"] {
            try namespace.add(name: name, parent: Namespace.rootID, kind: .file(.unallocated), mode: 0o100644, uid: 0, gid: 0, now: 0)
        }
        let listed = namespace.children(of: Namespace.rootID, after: 0, limit: 10)
        #expect(listed.map(\.name) == ["b", "c", "a"])
        #expect(listed.map(\.cookie) == [1, 2, 3])
        #expect(namespace.children(of: Namespace.rootID, after: 2, limit: 10).map(\.name) == ["a"])
    }

    @Test func aPagedListingSeesEveryChildThatStaysOnceWhileOthersComeAndGo() throws {
        var namespace = Namespace(now: 0)
        let directory = try namespace.add(name: "d", parent: Namespace.rootID, kind: .directory(children: [:]),
                                          mode: 0o40755, uid: 0, gid: 0, now: 0).id
        var staying: Set<String> = []
        var going: [UInt64] = []
        for index in 0..<1_000 {
            let node = try namespace.add(name: "f\(index)", parent: directory, kind: .file(.unallocated),
                                         mode: 0o100644, uid: 0, gid: 0, now: 0)
            if index % 3 == 0 { staying.insert(node.name) } else { going.append(node.id) }
        }
        var added = 0
        let names = pagedListing(of: directory, in: &namespace, pageSize: 5) { namespace in
            // Between pages: remove children from anywhere (enough to sweep the holes away), add new ones.
            for _ in 0..<10 where !going.isEmpty {
                namespace.remove(going.remove(at: going.count / 2))
            }
            if added < 100 {
                _ = try? namespace.add(name: "new\(added)", parent: directory, kind: .file(.unallocated),
                                       mode: 0o100644, uid: 0, gid: 0, now: 0)
                added += 1
            }
        }
        #expect(names.count == Set(names).count, "a child was listed twice")
        #expect(staying.isSubset(of: names), "children that stayed were skipped: \(staying.subtracting(names).sorted())")
        #expect(going.isEmpty, "the listing ended before every removal was made")
    }

    @Test func aRemovedChildsNameCanComeBackAtTheEnd() throws {
        var namespace = Namespace(now: 0)
        var ids: [String: UInt64] = [:]
        for name in ["a", "b", "c"] {
            ids[name] = try namespace.add(name: name, parent: Namespace.rootID, kind: .file(.unallocated),
                                          mode: 0o100644, uid: 0, gid: 0, now: 0).id
        }
        namespace.remove(ids["a"]!)
        try namespace.add(name: "a", parent: Namespace.rootID, kind: .file(.unallocated), mode: 0o100644, uid: 0, gid: 0, now: 0)
        #expect(namespace.children(of: Namespace.rootID, after: 0, limit: 10).map(\.name) == ["b", "c", "a"])
        #expect(namespace.child(of: Namespace.rootID, named: "a") != nil)
    }

    @Test func repliesHoldWhatFitsTheKernelsBufferAndResumeAfterTheirLastEntry() throws {
        let shared = try SharedDevices(count: 1)
        defer { shared.remove() }
        let image = try FamfsImage.open(devices: shared.devices.map { FilePath($0) }, access: .readWrite, host: try SystemUUID.current())
        let log = CapturedLog()
        let server = FuseServer(fileSystem: FileSystem(image: image, logger: log.logger), makePolicy: { ContiguousLayout() },
                                workerCount: 1, logger: log.logger)
        let kernel = try TestKernel(server: server)
        defer { kernel.close() }
        _ = try kernel.initialize(minor: 31, flags2: 0)
        let names = (0..<40).map { "directory\($0)" }
        for name in names {
            #expect(try kernel.call(9, node: Namespace.rootID, TestKernel.words([0o755, 0]) + Array(name.utf8) + [0]).error == 0)
        }
        let expected = [".", "..", Namespace.metaDirectory] + names
        for plus in [false, true] {
            let listing = try kernel.listing(of: Namespace.rootID, size: plus ? 600 : 100, plus: plus)
            #expect(listing.map(\.name) == expected, "plus: \(plus)")
            #expect(listing.map(\.nextOffset) == Array(1...UInt64(expected.count)), "plus: \(plus)")
            if plus {
                #expect(listing.prefix(2).allSatisfy { $0.lookupNode == 0 })
                #expect(listing.dropFirst(2).allSatisfy { $0.lookupNode == $0.inode })
            }
        }
        #expect(try kernel.readdir(Namespace.rootID, offset: 0, size: 40, plus: false).map(\.name) == ["."])
        #expect(try kernel.readdir(Namespace.rootID, offset: 0, size: 40, plus: true).isEmpty)
        #expect(try kernel.readdir(Namespace.rootID, offset: 1000, size: 4096, plus: false).isEmpty)
    }

    @Test func aListingThroughTheMountSeesEveryFileThatStaysWhileOthersAreCreatedAndUnlinked() throws {
        try withMountedFileSystem { fs in
            let directory = fs.path("busy")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            let staying = Set((0..<2_000).map { "keep\($0)" })
            for name in staying.sorted() + (0..<2_000).map({ "churn\($0)" }) {
                guard FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: nil) else {
                    throw Errno(rawValue: errno)
                }
            }
            let churning = Churn(in: directory, count: 2_000)
            defer { churning.finish() }
            for _ in 0..<20 {
                let entries = try directoryEntries(directory)
                // A name unlinked and created again is another file: inodes, not names, must not repeat.
                #expect(entries.count == Set(entries.map(\.inode)).count, "a file was listed twice")
                let names = Set(entries.map(\.name))
                #expect(staying.isSubset(of: names), "files that stayed were skipped: \(staying.subtracting(names).count)")
            }
        }
    }
}

/// READDIR (or READDIRPLUS) replies as the kernel reads them: each entry's inode, resume
/// offset and name, and for READDIRPLUS the node id of its lookup.
private extension TestKernel {
    struct ListedEntry: Equatable {
        var inode: UInt64
        var nextOffset: UInt64
        var name: String
        var lookupNode: UInt64?
    }

    func readdir(_ directory: UInt64, offset: UInt64, size: UInt32, plus: Bool) throws -> [ListedEntry] {
        var arguments = Self.words([0, 0])
        withUnsafeBytes(of: offset.littleEndian) { arguments += $0 }
        arguments += Self.words([size, 0, 0, 0, 0, 0])
        let reply = try call(plus ? 44 : 28, node: directory, arguments)
        guard reply.error == 0 else { throw Errno(rawValue: -reply.error) }
        var entries: [ListedEntry] = []
        var at = 0
        while at < reply.body.count {
            let lookupNode = plus ? Self.u64(reply.body, at: at) : nil
            if plus { at += 128 }
            let nameLength = Int(Self.u64(reply.body, at: at + 16) & 0xFFFF_FFFF)
            let name = String(decoding: reply.body[(at + 24)..<(at + 24 + nameLength)], as: UTF8.self)
            entries.append(ListedEntry(inode: Self.u64(reply.body, at: at), nextOffset: Self.u64(reply.body, at: at + 8),
                                       name: name, lookupNode: lookupNode))
            at += (24 + nameLength + 7) & ~7
        }
        return entries
    }

    /// A whole listing of `directory`, `size` bytes per reply, each resuming after the last entry.
    func listing(of directory: UInt64, size: UInt32, plus: Bool) throws -> [ListedEntry] {
        var entries: [ListedEntry] = []
        while true {
            let page = try readdir(directory, offset: entries.last?.nextOffset ?? 0, size: size, plus: plus)
            guard !page.isEmpty else { return entries }
            entries += page
        }
    }
}

/// Every entry `readdir` returns for `path`, "." and ".." aside.
private func directoryEntries(_ path: String) throws -> [(name: String, inode: UInt64)] {
    guard let stream = opendir(path) else { throw Errno(rawValue: errno) }
    defer { closedir(stream) }
    var entries: [(name: String, inode: UInt64)] = []
    while let entry = readdir(stream) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { entries.append((name, UInt64(entry.pointee.d_ino))) }
    }
    return entries
}

/// A background thread that goes through `churn0` ... `churn<count - 1>` unlinking each, then
/// again creating each, and so on until told to finish: files leave from anywhere in the
/// listing order and come back at its end, while the directory stays the same size.
private final class Churn: @unchecked Sendable {
    private let stop = Atomic(false)
    private let done = DispatchSemaphore(value: 0)

    init(in directory: String, count: Int) {
        Thread.detachNewThread { [self] in
            var index = 0
            while !stop.load(ordering: .relaxed) {
                let path = "\(directory)/churn\(index % count)"
                if (index / count).isMultiple(of: 2) { unlink(path) } else { close(open(path, O_CREAT | O_WRONLY, 0o644)) }
                index += 1
            }
            done.signal()
        }
    }

    func finish() {
        stop.store(true, ordering: .relaxed)
        done.wait()
    }
}
