import FuseWire
import Testing
import WireBytes

/// One sample request for every operation the daemon serves.
let sampleRequests: [Request] = {
    func request(_ opcode: UInt32, node: UInt64 = 7, _ operation: Operation) -> Request {
        Request(header: InHeader(length: 0, opcode: opcode, unique: 42, nodeID: node, uid: 1000, gid: 100, pid: 321),
                operation: operation)
    }
    func op(_ opcode: Opcode) -> UInt32 { opcode.rawValue }
    let offer = Capabilities([.asyncRead, .initExt, .passthrough, .daxFmap])
    return [
        request(op(.`init`), node: 0, .initialize(InitRequest(major: 7, minor: 45, maxReadahead: 131072, capabilities: offer))),
        request(op(.lookup), .lookup(name: "data.bin")),
        request(op(.forget), .forget(ForgetArguments(lookupCount: 3))),
        request(op(.batchForget), .batchForget([ForgetOne(nodeID: 9, lookupCount: 1), ForgetOne(nodeID: 10, lookupCount: 2)])),
        request(op(.getattr), .getattr(GetattrArguments(flags: 1, fileHandle: 5))),
        request(op(.setattr), .setattr(SetattrArguments(valid: [.size, .fileHandle], fileHandle: 5, size: 64 << 20))),
        request(op(.mkdir), .mkdir(MkdirArguments(mode: 0o755, umask: 0o22), name: "dir")),
        request(op(.unlink), .unlink(name: "old.bin")),
        request(op(.rmdir), .rmdir(name: "dir")),
        request(op(.rename), .rename(RenameArguments(newDirectory: 8), oldName: "a", newName: "b")),
        request(op(.rename2), .rename(RenameArguments(newDirectory: 8, flags: 1), oldName: "a", newName: "b")),
        request(op(.open), .open(OpenArguments(flags: 2))),
        request(op(.opendir), .opendir(OpenArguments(flags: 0))),
        request(op(.create), .create(CreateArguments(flags: 0o101, mode: 0o100644, umask: 0o22), name: "new.bin")),
        request(op(.read), .read(ReadArguments(fileHandle: 5, offset: 4096, size: 131072))),
        request(op(.write), .write(WriteArguments(fileHandle: 5, offset: 8192, size: 5), data: [1, 2, 3, 4, 5][...])),
        request(op(.release), .release(ReleaseArguments(fileHandle: 5, flags: 2))),
        request(op(.releasedir), .releasedir(ReleaseArguments(fileHandle: 6))),
        request(op(.flush), .flush(FlushArguments(fileHandle: 5, lockOwner: 77))),
        request(op(.fsync), .fsync(FsyncArguments(fileHandle: 5, fsyncFlags: 1))),
        request(op(.fsyncdir), .fsyncdir(FsyncArguments(fileHandle: 6))),
        request(op(.readdir), .readdir(ReadArguments(fileHandle: 6, offset: 2, size: 4096))),
        request(op(.readdirplus), .readdirplus(ReadArguments(fileHandle: 6, offset: 0, size: 4096))),
        request(op(.statfs), .statfs),
        request(op(.getxattr), .getxattr(GetxattrArguments(size: 4096), name: "user.famfs.fmap")),
        request(op(.setxattr), .setxattr(SetxattrArguments(size: 1, flags: 0), name: "user.famfs.commit", value: [0x31][...])),
        request(op(.listxattr), .listxattr(GetxattrArguments(size: 0))),
        request(op(.removexattr), .removexattr(name: "user.x")),
        request(op(.fallocate), .fallocate(FallocateArguments(fileHandle: 5, offset: 0, length: 4 << 20))),
        request(op(.access), .access(AccessArguments(mask: 4))),
        request(op(.lseek), .lseek(LseekArguments(fileHandle: 5, offset: 0, whence: 3))),
        request(op(.interrupt), .interrupt(InterruptArguments(unique: 41))),
        request(op(.destroy), node: 0, .destroy),
        request(FamfsOpcodes.posted.getFmap, .getFmap),
        request(FamfsOpcodes.posted.getDaxdev, node: 3, .getDaxdev),
    ]
}()

/// `bytes` with the header's `len` rewritten to claim `length`.
func withClaimedLength(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
    var copy = bytes
    withUnsafeBytes(of: UInt32(length).littleEndian) { copy.replaceSubrange(0..<4, with: $0) }
    return copy
}

@Suite("Request codec")
struct RequestCodecTests {
    let codec = RequestCodec()

    @Test("every request survives encode then decode", arguments: sampleRequests)
    func roundTrip(_ request: Request) throws {
        let bytes = codec.encode(request)
        var expected = request
        expected.header.length = UInt32(bytes.count)
        #expect(try codec.decode(bytes[...]) == expected)
    }

    @Test("a request cut short is refused, whatever its header claims", arguments: sampleRequests)
    func truncated(_ request: Request) {
        let bytes = codec.encode(request)
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            #expect(throws: WireDecodingError.self) { try codec.decode(prefix[...]) }
            // With a header patched to agree with the shorter message, the arguments themselves must be caught.
            guard cut >= InHeader.wireSize else { continue }
            let isCompatibleInit = request.header.opcode == Opcode.`init`.rawValue
                && cut == InHeader.wireSize + InitRequest.compatibleSize
            if isCompatibleInit { continue }
            if case .statfs = request.operation { continue }
            let consistent = withClaimedLength(prefix, cut)
            #expect(throws: WireDecodingError.self, "cut at \(cut) of \(request.operation)") {
                try codec.decode(consistent[...])
            }
        }
    }

    @Test("a header that lies about the length is refused", arguments: sampleRequests)
    func lyingLength(_ request: Request) {
        let bytes = codec.encode(request)
        for claimed in [0, bytes.count - 1, bytes.count + 1, Int(UInt32.max)] {
            let lying = withClaimedLength(bytes, claimed)
            #expect {
                try codec.decode(lying[...])
            } throws: { error in
                guard case .invalidLength(let field, _, _) = error as? WireDecodingError else { return false }
                return field == "fuse_in_header.len"
            }
        }
    }

    @Test("bytes after the arguments are refused")
    func trailingBytes() throws {
        for request in sampleRequests {
            if case .initialize = request.operation { continue }
            let padded = codec.encode(request) + [0xAB, 0xCD]
            let consistent = withClaimedLength(padded, padded.count)
            #expect(throws: WireDecodingError.self, "\(request.operation)") { try codec.decode(consistent[...]) }
        }
    }

    @Test func writeDataMustMatchItsAnnouncedSize() throws {
        let request = Request(header: InHeader(length: 0, opcode: Opcode.write.rawValue, unique: 1, nodeID: 2),
                              operation: .write(WriteArguments(fileHandle: 1, offset: 0, size: 1000), data: [9, 9][...]))
        let bytes = codec.encode(request)
        #expect(throws: WireDecodingError.invalidLength(field: "fuse_write_in.size", value: 1000,
                                                         reason: "2 data bytes follow")) {
            try codec.decode(bytes[...])
        }
    }

    @Test func batchForgetCountMustMatchTheEntries() throws {
        var bytes = codec.encode(Request(header: InHeader(length: 0, opcode: Opcode.batchForget.rawValue, unique: 1, nodeID: 0),
                                         operation: .batchForget([ForgetOne(nodeID: 5, lookupCount: 1)])))
        bytes.replaceSubrange(40..<44, with: [0xFF, 0xFF, 0xFF, 0x0F])
        #expect {
            try codec.decode(bytes[...])
        } throws: { error in
            guard case .invalidLength(let field, _, _) = error as? WireDecodingError else { return false }
            return field == "fuse_batch_forget_in.count"
        }
    }

    @Test func namesMustBeTerminatedAndNonEmpty() throws {
        let header = InHeader(length: 0, opcode: Opcode.lookup.rawValue, unique: 1, nodeID: 1)
        var unterminated = ByteWriter()
        InHeader(length: 43, opcode: header.opcode, unique: 1, nodeID: 1).write(to: &unterminated)
        unterminated.write(bytes: Array("abc".utf8))
        #expect(throws: WireDecodingError.invalidValue(field: "lookup name", value: 3, reason: "string is not NUL-terminated")) {
            try codec.decode(unterminated.bytes[...])
        }
        let empty = codec.encode(Request(header: header, operation: .lookup(name: "x")))
        var emptied = empty
        emptied[40] = 0
        emptied.removeLast()
        emptied = withClaimedLength(emptied, emptied.count)
        #expect(throws: WireDecodingError.invalidValue(field: "lookup name", value: 0, reason: "name is empty")) {
            try codec.decode(emptied[...])
        }
    }

    @Test func initFromAnOldKernelHasNoFlags2() throws {
        var writer = ByteWriter()
        InHeader(length: 56, opcode: Opcode.`init`.rawValue, unique: 1, nodeID: 0).write(to: &writer)
        for value: UInt32 in [7, 31, 65536, Capabilities.asyncRead.flags] { writer.write(value) }
        let request = try codec.decode(writer.bytes[...])
        #expect(request.operation == .initialize(InitRequest(major: 7, minor: 31, maxReadahead: 65536, capabilities: .asyncRead)))
    }

    @Test func flags2IsIgnoredWithoutInitExt() throws {
        let offer = InitRequest(major: 7, minor: 45, maxReadahead: 0, capabilities: Capabilities(flags: 1, flags2: 1 << 5))
        let decoded = try InitRequest.decode(offer.encoded[...])
        #expect(decoded.capabilities == Capabilities(flags: 1, flags2: 0))
    }

    @Test func famfsOpcodesFollowTheKernelGeneration() throws {
        let old = RequestCodec(famfsOpcodes: .rfcV2)
        let bytes = old.encode(Request(header: InHeader(length: 0, opcode: 53, unique: 1, nodeID: 9), operation: .getFmap))
        #expect(try old.decode(bytes[...]).operation == .getFmap)
        #expect(try RequestCodec(famfsOpcodes: .posted).decode(bytes[...]).operation == .unsupported)
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 40...200, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes = withClaimedLength(bytes, length)
            bytes[4] = UInt8.random(in: 0...60, using: &generator)
            bytes[5...7] = [0, 0, 0]
            _ = try? codec.decode(bytes[...])
        }
    }
}

@Suite("Replies")
struct ReplyTests {
    @Test func structRepliesRoundTrip() throws {
        #expect(try InitReply.decode(InitReply(major: 7, minor: 45, maxReadahead: 1, capabilities: [.initExt, .passthrough],
                                               maxWrite: 1 << 20, maxStackDepth: 1).encoded[...])
                == InitReply(major: 7, minor: 45, maxReadahead: 1, capabilities: [.initExt, .passthrough],
                             maxWrite: 1 << 20, maxStackDepth: 1))
        let entry = EntryReply(nodeID: 5, entryValidity: .init(seconds: 1), attributeValidity: .init(seconds: 2),
                               attributes: markedAttributes)
        #expect(try EntryReply.decode(entry.encoded[...]) == entry)
        #expect(try DaxdevReply.decode(DaxdevReply(index: 3, name: "/dev/dax1.0").encoded[...]).name == "/dev/dax1.0")
    }

    @Test func replyMessageCarriesLengthAndUnique() throws {
        let bytes = Reply.success(unique: 99, OpenReply(fileHandle: 4, flags: .passthrough, backingID: 1))
        let (header, body) = try Reply.decode(bytes[...])
        #expect(header == OutHeader(length: UInt32(OutHeader.wireSize + OpenReply.wireSize), error: 0, unique: 99))
        #expect(try OpenReply.decode(body) == OpenReply(fileHandle: 4, flags: .passthrough, backingID: 1))
    }

    @Test func errorRepliesAreNegatedErrnos() throws {
        let (header, body) = try Reply.decode(Reply.status(unique: 3, errno: 28)[...])
        #expect(header.error == -28)
        #expect(body.isEmpty)
    }

    @Test func lyingReplyLengthIsRefused() {
        var bytes = Reply.success(unique: 1, SizeReply(size: 5))
        bytes[0] = 200
        #expect(throws: WireDecodingError.self) { try Reply.decode(bytes[...]) }
        #expect(throws: WireDecodingError.self) { try Reply.decode(bytes[..<10]) }
    }

    @Test func structDecodersRefuseShortAndLongInput() {
        let bytes = AttributesReply(validity: .none, attributes: markedAttributes).encoded
        #expect(throws: WireDecodingError.self) { try AttributesReply.decode(bytes.dropLast()) }
        #expect(throws: WireDecodingError.self) { try AttributesReply.decode((bytes + [0])[...]) }
    }

    @Test func directoryListingStopsAtCapacity() throws {
        var listing = DirectoryListing(capacity: 64)
        let appended1 = listing.append(DirectoryEntry(inode: 1, nextOffset: 1, type: 4, name: "."))
        #expect(appended1)
        let appended2 = listing.append(DirectoryEntry(inode: 1, nextOffset: 2, type: 4, name: ".."))
        #expect(appended2)
        let appended3 = listing.append(DirectoryEntry(inode: 2, nextOffset: 3, type: 8, name: "x"))
        #expect(!appended3)
        #expect(listing.count == 2)
        #expect(try DirectoryListing.decodeEntries(listing.bytes.bytes[...]).map(\.name) == [".", ".."])
    }

    @Test func directoryPlusEntriesRoundTrip() throws {
        var listing = DirectoryListing(capacity: 4096)
        let lookup = EntryReply(nodeID: 2, entryValidity: .init(seconds: 1), attributeValidity: .init(seconds: 1),
                                attributes: markedAttributes)
        let appended4 = listing.append(DirectoryEntry(inode: 2, nextOffset: 1, type: 8, name: "f"), lookup: lookup)
        #expect(appended4)
        let decoded = try DirectoryListing.decodePlusEntries(listing.bytes.bytes[...])
        #expect(decoded.count == 1 && decoded[0].0 == lookup && decoded[0].1.name == "f")
    }
}
