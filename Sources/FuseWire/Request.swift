import WireBytes

/// One request from the kernel: its header and decoded operation.
public struct Request: Equatable, Sendable {
    public var header: InHeader
    public var operation: Operation

    public init(header: InHeader, operation: Operation) {
        self.header = header
        self.operation = operation
    }

    public var unique: UInt64 { header.unique }
    public var nodeID: UInt64 { header.nodeID }
}

/// Turns request bytes into `Request` values and back.
///
/// Decoding trusts no length: the header's `len` must equal the bytes received, every
/// argument struct must be complete, every name NUL-terminated, every payload exactly the
/// size its struct announces, and nothing may be left over.
public struct RequestCodec: Sendable {
    public var famfsOpcodes: FamfsOpcodes

    public init(famfsOpcodes: FamfsOpcodes = .posted) { self.famfsOpcodes = famfsOpcodes }

    public func decode(_ bytes: ArraySlice<UInt8>) throws(WireDecodingError) -> Request {
        var input = ByteReader(bytes)
        let header = try InHeader(reading: &input)
        guard header.length == bytes.count else {
            throw .invalidLength(field: "fuse_in_header.len", value: UInt64(header.length),
                                 reason: "the message is \(bytes.count) bytes")
        }
        let extensionBytes = Int(header.totalExtensionLength) * 8
        guard extensionBytes <= input.remainingCount else {
            throw .invalidLength(field: "fuse_in_header.total_extlen", value: UInt64(header.totalExtensionLength),
                                 reason: "\(extensionBytes) extension bytes exceed the \(input.remainingCount) argument bytes")
        }
        var body = ByteReader(try input.readBytes(input.remainingCount - extensionBytes, field: "arguments"))
        let operation = try decodeOperation(header, &body)
        guard body.remainingCount == 0 else {
            throw .invalidLength(field: "arguments", value: UInt64(header.length),
                                 reason: "\(body.remainingCount) unexpected bytes after the arguments of opcode \(header.opcode)")
        }
        return Request(header: header, operation: operation)
    }

    private func decodeOperation(_ header: InHeader, _ body: inout ByteReader) throws(WireDecodingError) -> Operation {
        if header.opcode == famfsOpcodes.getFmap { return .getFmap }
        if header.opcode == famfsOpcodes.getDaxdev { return .getDaxdev }
        guard let opcode = Opcode(rawValue: header.opcode) else {
            try body.skip(body.remainingCount, field: "arguments")
            return .unsupported
        }
        switch opcode {
        case .`init`:
            guard body.remainingCount == InitRequest.compatibleSize || body.remainingCount >= InitRequest.wireSize else {
                throw .invalidLength(field: "fuse_init_in", value: UInt64(body.remainingCount),
                                     reason: "expected \(InitRequest.compatibleSize) or at least \(InitRequest.wireSize) bytes")
            }
            let request = try InitRequest(reading: &body)
            try body.skip(body.remainingCount, field: "fuse_init_in (newer fields)")
            return .initialize(request)
        case .lookup: return .lookup(name: try name(&body, "lookup name"))
        case .forget: return .forget(try ForgetArguments(reading: &body))
        case .batchForget:
            let arguments = try BatchForgetArguments(reading: &body)
            guard UInt64(arguments.count) * UInt64(ForgetOne.wireSize) == UInt64(body.remainingCount) else {
                throw .invalidLength(field: "fuse_batch_forget_in.count", value: UInt64(arguments.count),
                                     reason: "\(body.remainingCount) bytes follow, not \(arguments.count) × \(ForgetOne.wireSize)")
            }
            var list: [ForgetOne] = []
            list.reserveCapacity(Int(arguments.count))
            for _ in 0..<arguments.count { list.append(try ForgetOne(reading: &body)) }
            return .batchForget(list)
        case .getattr: return .getattr(try GetattrArguments(reading: &body))
        case .setattr: return .setattr(try SetattrArguments(reading: &body))
        case .mkdir:
            let arguments = try MkdirArguments(reading: &body)
            return .mkdir(arguments, name: try name(&body, "mkdir name"))
        case .unlink: return .unlink(name: try name(&body, "unlink name"))
        case .rmdir: return .rmdir(name: try name(&body, "rmdir name"))
        case .rename:
            let newDirectory: UInt64 = try body.read(field: "fuse_rename_in.newdir")
            let oldName = try name(&body, "rename old name")
            return .rename(RenameArguments(newDirectory: newDirectory), oldName: oldName, newName: try name(&body, "rename new name"))
        case .rename2:
            let arguments = try RenameArguments(reading: &body)
            let oldName = try name(&body, "rename2 old name")
            return .rename(arguments, oldName: oldName, newName: try name(&body, "rename2 new name"))
        case .open: return .open(try OpenArguments(reading: &body))
        case .opendir: return .opendir(try OpenArguments(reading: &body))
        case .create:
            let arguments = try CreateArguments(reading: &body)
            return .create(arguments, name: try name(&body, "create name"))
        case .read: return .read(try ReadArguments(reading: &body))
        case .write:
            let arguments = try WriteArguments(reading: &body)
            guard Int(arguments.size) == body.remainingCount else {
                throw .invalidLength(field: "fuse_write_in.size", value: UInt64(arguments.size),
                                     reason: "\(body.remainingCount) data bytes follow")
            }
            return .write(arguments, data: try body.readBytes(Int(arguments.size), field: "write data"))
        case .release: return .release(try ReleaseArguments(reading: &body))
        case .releasedir: return .releasedir(try ReleaseArguments(reading: &body))
        case .flush: return .flush(try FlushArguments(reading: &body))
        case .fsync: return .fsync(try FsyncArguments(reading: &body))
        case .fsyncdir: return .fsyncdir(try FsyncArguments(reading: &body))
        case .readdir: return .readdir(try ReadArguments(reading: &body))
        case .readdirplus: return .readdirplus(try ReadArguments(reading: &body))
        case .statfs: return .statfs
        case .getxattr:
            let arguments = try GetxattrArguments(reading: &body)
            return .getxattr(arguments, name: try name(&body, "getxattr name"))
        case .setxattr:
            let arguments = try SetxattrArguments(reading: &body)
            let attributeName = try name(&body, "setxattr name")
            guard Int(arguments.size) == body.remainingCount else {
                throw .invalidLength(field: "fuse_setxattr_in.size", value: UInt64(arguments.size),
                                     reason: "\(body.remainingCount) value bytes follow")
            }
            return .setxattr(arguments, name: attributeName, value: try body.readBytes(Int(arguments.size), field: "setxattr value"))
        case .listxattr: return .listxattr(try GetxattrArguments(reading: &body))
        case .removexattr: return .removexattr(name: try name(&body, "removexattr name"))
        case .fallocate: return .fallocate(try FallocateArguments(reading: &body))
        case .access: return .access(try AccessArguments(reading: &body))
        case .lseek: return .lseek(try LseekArguments(reading: &body))
        case .interrupt: return .interrupt(try InterruptArguments(reading: &body))
        case .destroy: return .destroy
        case .getFmap, .getDaxdev:
            // Reached only when this kernel generation numbers the famfs messages differently.
            try body.skip(body.remainingCount, field: "arguments")
            return .unsupported
        }
    }

    private func name(_ body: inout ByteReader, _ field: String) throws(WireDecodingError) -> String {
        let value = try body.readCString(field: field)
        guard !value.isEmpty else { throw .invalidValue(field: field, value: 0, reason: "name is empty") }
        return value
    }

    /// Encodes a request as the kernel would send it, `len` computed (tests, in-test kernel).
    public func encode(_ request: Request) -> [UInt8] {
        var body = ByteWriter()
        switch request.operation {
        case .initialize(let arguments): arguments.write(to: &body)
        case .lookup(let name), .unlink(let name), .rmdir(let name), .removexattr(let name):
            body.writeCString(name)
        case .forget(let arguments): arguments.write(to: &body)
        case .batchForget(let list):
            BatchForgetArguments(count: UInt32(list.count)).write(to: &body)
            list.forEach { $0.write(to: &body) }
        case .getattr(let arguments): arguments.write(to: &body)
        case .setattr(let arguments): arguments.write(to: &body)
        case .mkdir(let arguments, let name):
            arguments.write(to: &body)
            body.writeCString(name)
        case .rename(let arguments, let oldName, let newName):
            if request.header.opcode == Opcode.rename.rawValue {
                body.write(arguments.newDirectory)
            } else {
                arguments.write(to: &body)
            }
            body.writeCString(oldName)
            body.writeCString(newName)
        case .open(let arguments), .opendir(let arguments): arguments.write(to: &body)
        case .create(let arguments, let name):
            arguments.write(to: &body)
            body.writeCString(name)
        case .read(let arguments), .readdir(let arguments), .readdirplus(let arguments): arguments.write(to: &body)
        case .write(let arguments, let data):
            arguments.write(to: &body)
            body.write(bytes: data)
        case .release(let arguments), .releasedir(let arguments): arguments.write(to: &body)
        case .flush(let arguments): arguments.write(to: &body)
        case .fsync(let arguments), .fsyncdir(let arguments): arguments.write(to: &body)
        case .getxattr(let arguments, let name):
            arguments.write(to: &body)
            body.writeCString(name)
        case .setxattr(let arguments, let name, let value):
            arguments.write(to: &body)
            body.writeCString(name)
            body.write(bytes: value)
        case .listxattr(let arguments): arguments.write(to: &body)
        case .fallocate(let arguments): arguments.write(to: &body)
        case .access(let arguments): arguments.write(to: &body)
        case .lseek(let arguments): arguments.write(to: &body)
        case .interrupt(let arguments): arguments.write(to: &body)
        case .statfs, .destroy, .getFmap, .getDaxdev, .unsupported: break
        }
        var header = request.header
        header.length = UInt32(InHeader.wireSize + body.count)
        header.totalExtensionLength = 0
        var output = ByteWriter(capacity: Int(header.length))
        header.write(to: &output)
        output.write(bytes: body.bytes)
        return output.bytes
    }
}
