import Foundation
import Logging
@testable import Server
import Testing

@Suite("Staged files found at start")
struct StagedFilePlacementTests {
    /// A staging folder holding one file per tag, each tagged with that mount path.
    private func staging(tagged tags: [String]) throws -> (StagingArea, String) {
        let folder = "/dev/shm/famfs-staged-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, tag) in tags.enumerated() {
            let path = "\(folder)/file\(index)"
            _ = FileManager.default.createFile(atPath: path, contents: Data("x".utf8))
            let tagged = try runProgram("/usr/bin/setfattr", ["-n", StagingArea.pathAttribute, "-v", tag, path])
            #expect(tagged.status == 0, "\(tagged.output)")
        }
        return (try StagingArea(path: folder), folder)
    }

    @Test("a tag that is not a file path in the mount is reported and left alone; the others are placed")
    func malformedTagsAreLeftAlone() throws {
        let (area, folder) = try staging(tagged: ["/", "//", "a/../b", "./c", "..", "data/ok.bin"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var namespace = Namespace(now: 0)
        let problems = namespace.addStagedFiles(from: area, now: 0, logger: Logger(label: "test"))
        #expect(problems.count == 5, "\(problems)")
        #expect(problems.allSatisfy { $0.contains("which is not a file path in the mount; left alone") }, "\(problems)")
        let data = try #require(namespace.child(of: Namespace.rootID, named: "data"))
        #expect(namespace.child(of: data.id, named: "ok.bin") != nil)
        #expect(namespace.child(of: Namespace.rootID, named: "..") == nil && namespace.child(of: Namespace.rootID, named: "a") == nil)
        #expect(FileManager.default.fileExists(atPath: "\(folder)/file0"), "a file left alone is kept")
    }
}
