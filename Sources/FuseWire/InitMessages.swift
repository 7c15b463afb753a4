import WireBytes

/// `fuse_init_in`: the kernel's offer. Kernels before 7.36 send only the first 16 bytes,
/// and `flags2` means something only when `FUSE_INIT_EXT` is set in `flags`.
public struct InitRequest: WireStruct {
    public static let wireSize = 64
    /// The size of the pre-7.36 form, which has no `flags2`.
    public static let compatibleSize = 16

    public var major: UInt32
    public var minor: UInt32
    public var maxReadahead: UInt32
    /// The offered capabilities; the high word is zero unless the kernel set `initExt`.
    public var capabilities: Capabilities

    public init(major: UInt32, minor: UInt32, maxReadahead: UInt32, capabilities: Capabilities) {
        self.major = major
        self.minor = minor
        self.maxReadahead = maxReadahead
        self.capabilities = capabilities
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        major = try input.read(field: "fuse_init_in.major")
        minor = try input.read(field: "fuse_init_in.minor")
        maxReadahead = try input.read(field: "fuse_init_in.max_readahead")
        let flags: UInt32 = try input.read(field: "fuse_init_in.flags")
        var flags2: UInt32 = 0
        if input.remainingCount > 0 {
            flags2 = try input.read(field: "fuse_init_in.flags2")
            try input.skip(44, field: "fuse_init_in.unused")
        }
        let low = Capabilities(flags: flags, flags2: 0)
        capabilities = low.contains(.initExt) ? Capabilities(flags: flags, flags2: flags2) : low
    }

    public func write(to output: inout ByteWriter) {
        output.write(major)
        output.write(minor)
        output.write(maxReadahead)
        output.write(capabilities.flags)
        output.write(capabilities.flags2)
        output.writeZeros(44)
    }
}

/// `fuse_init_out`: what the server accepts. The kernel reads `flags2` only when the
/// reply sets `initExt` in `flags`.
public struct InitReply: WireStruct {
    public static let wireSize = 64

    public var major: UInt32
    public var minor: UInt32
    public var maxReadahead: UInt32
    public var capabilities: Capabilities
    public var maxBackground: UInt16
    public var congestionThreshold: UInt16
    public var maxWrite: UInt32
    public var timeGranularity: UInt32
    public var maxPages: UInt16
    public var mapAlignment: UInt16
    /// Non-zero accepts `FUSE_PASSTHROUGH`: how deep backing files may stack.
    public var maxStackDepth: UInt32
    public var requestTimeout: UInt16

    public init(major: UInt32, minor: UInt32, maxReadahead: UInt32, capabilities: Capabilities,
                maxBackground: UInt16 = 0, congestionThreshold: UInt16 = 0, maxWrite: UInt32,
                timeGranularity: UInt32 = 1, maxPages: UInt16 = 0, mapAlignment: UInt16 = 0,
                maxStackDepth: UInt32 = 0, requestTimeout: UInt16 = 0) {
        self.major = major
        self.minor = minor
        self.maxReadahead = maxReadahead
        self.capabilities = capabilities
        self.maxBackground = maxBackground
        self.congestionThreshold = congestionThreshold
        self.maxWrite = maxWrite
        self.timeGranularity = timeGranularity
        self.maxPages = maxPages
        self.mapAlignment = mapAlignment
        self.maxStackDepth = maxStackDepth
        self.requestTimeout = requestTimeout
    }

    public init(reading input: inout ByteReader) throws(WireDecodingError) {
        major = try input.read(field: "fuse_init_out.major")
        minor = try input.read(field: "fuse_init_out.minor")
        maxReadahead = try input.read(field: "fuse_init_out.max_readahead")
        let flags: UInt32 = try input.read(field: "fuse_init_out.flags")
        maxBackground = try input.read(field: "fuse_init_out.max_background")
        congestionThreshold = try input.read(field: "fuse_init_out.congestion_threshold")
        maxWrite = try input.read(field: "fuse_init_out.max_write")
        timeGranularity = try input.read(field: "fuse_init_out.time_gran")
        maxPages = try input.read(field: "fuse_init_out.max_pages")
        mapAlignment = try input.read(field: "fuse_init_out.map_alignment")
        let flags2: UInt32 = try input.read(field: "fuse_init_out.flags2")
        maxStackDepth = try input.read(field: "fuse_init_out.max_stack_depth")
        requestTimeout = try input.read(field: "fuse_init_out.request_timeout")
        try input.skip(22, field: "fuse_init_out.unused")
        capabilities = Capabilities(flags: flags, flags2: flags2)
    }

    public func write(to output: inout ByteWriter) {
        output.write(major)
        output.write(minor)
        output.write(maxReadahead)
        output.write(capabilities.flags)
        output.write(maxBackground)
        output.write(congestionThreshold)
        output.write(maxWrite)
        output.write(timeGranularity)
        output.write(maxPages)
        output.write(mapAlignment)
        output.write(capabilities.flags2)
        output.write(maxStackDepth)
        output.write(requestTimeout)
        output.writeZeros(22)
    }
}
