import Foundation
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

    @Test func aListingThroughTheMountSeesEveryFileThatStaysWhileOthersAreCreatedAndUnlinked() throws {
        try withMountedFileSystem { fs in
            let directory = fs.path("busy")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
            let staying = Set((0..<2_000).map { "keep\($0)" })
            for name in staying.sorted() + (0..<2_000).map({ "gone\($0)" }) {
                guard FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: nil) else {
                    throw Errno(rawValue: errno)
                }
            }
            let churning = Churn(in: directory, count: 2_000)
            defer { churning.finish() }
            for _ in 0..<20 {
                let names = try directoryNames(directory)
                #expect(names.count == Set(names).count, "a name was listed twice")
                #expect(staying.isSubset(of: names), "files that stayed were skipped: \(staying.subtracting(names).count)")
            }
        }
    }
}

/// Every name `readdir` returns for `path`, "." and ".." aside.
private func directoryNames(_ path: String) throws -> [String] {
    guard let stream = opendir(path) else { throw Errno(rawValue: errno) }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// A background thread that unlinks `gone<i>` files and creates `new<i>` ones until told to finish.
private final class Churn: @unchecked Sendable {
    private let stop = Atomic(false)
    private let done = DispatchSemaphore(value: 0)

    init(in directory: String, count: Int) {
        Thread.detachNewThread { [self] in
            var index = 0
            while !stop.load(ordering: .relaxed) {
                unlink("\(directory)/gone\(index % count)")
                close(open("\(directory)/new\(index)", O_CREAT | O_WRONLY, 0o644))
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
