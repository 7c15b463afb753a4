import WireBytes

/// `fuse_in_header`: the 40 bytes in front of every request.
public struct InHeader: WireStruct {
    public static let wireSize = 40
    /// Length of the whole request, header included.
    public var length: UInt32
    /// The raw opcode; `Opcode(rawValue:)` names it when the daemon knows it.
    public var opcode: UInt32
    public var unique: UInt64
    public var nodeID: UInt64
    public var uid: UInt32
    public var gid: UInt32
    public var pid: UInt32
    /// Bytes of extension headers after the op's arguments, in 8-byte units.
    public var totalExtensionLength: UInt16

    public init(length: UInt32, opcode: UInt32, unique: UInt64, nodeID: UInt64,
                uid: UInt32 = 0, gid: UInt32 = 0, pid: UInt32 = 0, totalExtensionLength: UInt16 = 0) {
        self.length = length
        self.opcode = opcode
        self.unique = unique
        self.nodeID = nodeID
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.totalExtensionLength = totalExtensionLength
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        length = try input.read(field: "fuse_in_header.len")
        opcode = try input.read(field: "fuse_in_header.opcode")
        unique = try input.read(field: "fuse_in_header.unique")
        nodeID = try input.read(field: "fuse_in_header.nodeid")
        uid = try input.read(field: "fuse_in_header.uid")
        gid = try input.read(field: "fuse_in_header.gid")
        pid = try input.read(field: "fuse_in_header.pid")
        totalExtensionLength = try input.read(field: "fuse_in_header.total_extlen")
        try input.skip(2, field: "fuse_in_header.padding")
    }

    public func write(to output: inout ByteWriter) {
        output.write(length)
        output.write(opcode)
        output.write(unique)
        output.write(nodeID)
        output.write(uid)
        output.write(gid)
        output.write(pid)
        output.write(totalExtensionLength)
        output.write(UInt16(0))
    }
}

/// `fuse_out_header`: the 16 bytes in front of every reply and notification.
public struct OutHeader: WireStruct {
    public static let wireSize = 16
    public var length: UInt32
    /// 0, a negative errno, or (with `unique` 0) a notification code.
    public var error: Int32
    public var unique: UInt64

    public init(length: UInt32, error: Int32, unique: UInt64) {
        self.length = length
        self.error = error
        self.unique = unique
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        length = try input.read(field: "fuse_out_header.len")
        error = try input.read(field: "fuse_out_header.error")
        unique = try input.read(field: "fuse_out_header.unique")
    }

    public func write(to output: inout ByteWriter) {
        output.write(length)
        output.write(error)
        output.write(unique)
    }
}
