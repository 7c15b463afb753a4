/// The JSON shape of an fmap shared by `famfs-policy eval --json` and the `user.famfs.fmap`
/// xattr: `{"file_size", "ext_type": "simple"|"interleaved", "extents": [...]}`, a simple
/// extent `{"dev", "offset", "length"}`, an interleaved one
/// `{"nstrips", "chunk_size", "nbytes", "strips": [simple...]}`.
extension Fmap: Codable {
    enum CodingKeys: String, CodingKey {
        case fileSize = "file_size"
        case extentType = "ext_type"
        case extents
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(fileSize, forKey: .fileSize)
        switch extents {
        case .simple(let list):
            try container.encode("simple", forKey: .extentType)
            try container.encode(list, forKey: .extents)
        case .interleaved(let list):
            try container.encode("interleaved", forKey: .extentType)
            try container.encode(list, forKey: .extents)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let fileSize = try container.decode(UInt64.self, forKey: .fileSize)
        switch try container.decode(String.self, forKey: .extentType) {
        case "simple":
            self.init(fileSize: fileSize, extents: .simple(try container.decode([SimpleExtent].self, forKey: .extents)))
        case "interleaved":
            self.init(fileSize: fileSize, extents: .interleaved(try container.decode([InterleavedExtent].self, forKey: .extents)))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .extentType, in: container,
                                                   debugDescription: "ext_type \"\(other)\" is not \"simple\" or \"interleaved\"")
        }
    }
}

extension SimpleExtent: Codable {
    enum CodingKeys: String, CodingKey {
        case device = "dev"
        case offset
        case length
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(device, forKey: .device)
        try container.encode(offset, forKey: .offset)
        try container.encode(length, forKey: .length)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(device: try container.decode(UInt32.self, forKey: .device),
                  offset: try container.decode(UInt64.self, forKey: .offset),
                  length: try container.decode(UInt64.self, forKey: .length))
    }
}

extension InterleavedExtent: Codable {
    enum CodingKeys: String, CodingKey {
        case stripCount = "nstrips"
        case chunkSize = "chunk_size"
        case byteCount = "nbytes"
        case strips
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(strips.count, forKey: .stripCount)
        try container.encode(chunkSize, forKey: .chunkSize)
        try container.encode(byteCount, forKey: .byteCount)
        try container.encode(strips, forKey: .strips)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let strips = try container.decode([SimpleExtent].self, forKey: .strips)
        self.init(chunkSize: try container.decode(UInt64.self, forKey: .chunkSize),
                  byteCount: try container.decode(UInt64.self, forKey: .byteCount),
                  strips: strips)
        let declared = try container.decode(Int.self, forKey: .stripCount)
        guard declared == strips.count else {
            throw DecodingError.dataCorruptedError(forKey: .stripCount, in: container,
                                                   debugDescription: "nstrips \(declared) but \(strips.count) strips listed")
        }
    }
}
