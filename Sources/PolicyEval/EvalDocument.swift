import Yams

/// The eval input file (YAML or JSON) as written. Every mapping refuses keys it does not
/// know, so a typo (`devics:`) is named instead of ignored.
struct EvalDocument: Decodable {
    struct DeviceEntry: Decodable {
        var path: String
        var size: SizeValue
        var count: UInt32?
        var numaNode: UInt32?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case path, size, count
            case numaNode = "numa_node"
        }

        init(from decoder: any Decoder) throws {
            let values = try decoder.mapping(keyedBy: CodingKeys.self)
            path = try values.decode(String.self, forKey: .path)
            size = try values.decode(SizeValue.self, forKey: .size)
            count = try values.decodeIfPresent(UInt32.self, forKey: .count)
            numaNode = try values.decodeIfPresent(UInt32.self, forKey: .numaNode)
        }
    }

    struct FileEntry: Decodable {
        var path: String
        var size: SizeValue
        var count: UInt32?
        var uid: UInt32?
        var gid: UInt32?
        var mode: ModeValue?

        enum CodingKeys: String, CodingKey, CaseIterable { case path, size, count, uid, gid, mode }

        init(from decoder: any Decoder) throws {
            let values = try decoder.mapping(keyedBy: CodingKeys.self)
            path = try values.decode(String.self, forKey: .path)
            size = try values.decode(SizeValue.self, forKey: .size)
            count = try values.decodeIfPresent(UInt32.self, forKey: .count)
            uid = try values.decodeIfPresent(UInt32.self, forKey: .uid)
            gid = try values.decodeIfPresent(UInt32.self, forKey: .gid)
            mode = try values.decodeIfPresent(ModeValue.self, forKey: .mode)
        }
    }

    var policy: String?
    var config: [String: String]?
    var reserve: SizeValue?
    var devices: [DeviceEntry]?
    var files: [FileEntry]?

    enum CodingKeys: String, CodingKey, CaseIterable { case policy, config, reserve, devices, files }

    private static var keyList: String { CodingKeys.allCases.map(\.rawValue).joined(separator: ", ") }

    init(from decoder: any Decoder) throws {
        let values = try decoder.mapping(keyedBy: CodingKeys.self)
        policy = try values.decodeIfPresent(String.self, forKey: .policy)
        config = try values.decodeIfPresent([String: String].self, forKey: .config)
        reserve = try values.decodeIfPresent(SizeValue.self, forKey: .reserve)
        devices = try values.decodeIfPresent([DeviceEntry].self, forKey: .devices)
        files = try values.decodeIfPresent([FileEntry].self, forKey: .files)
    }

    /// Decodes `text`; a failure reads as `SOURCE: devices[2]: missing 'size'`.
    static func decode(_ text: String, source: String) throws(EvalInputError) -> EvalDocument {
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw EvalInputError("\(source) is empty; give it some of the keys \(keyList), e.g. examples/eval-mixed.yaml")
        }
        do {
            return try YAMLDecoder().decode(EvalDocument.self, from: text)
        } catch let error as DecodingError {
            throw EvalInputError("\(source): \(describe(error))")
        } catch {
            throw EvalInputError("\(source): \(error)")
        }
    }

    /// A decoding failure in the input's own terms: where (`devices[2].size`) and what is wrong.
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return at(context.codingPath) + "missing '\(key.stringValue)'"
        case .valueNotFound(let type, let context):
            return at(context.codingPath) + "no value; expected \(expectation(type, at: context.codingPath))"
        case .typeMismatch(let type, let context):
            return at(context.codingPath) + "expected \(expectation(type, at: context.codingPath))"
        case .dataCorrupted(let context):
            if let yaml = context.underlyingError as? YamlError { return "not valid YAML: \(describe(yaml))" }
            return at(context.codingPath) + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    /// `devices[2].size: `, or nothing for the document itself.
    private static func at(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return text.isEmpty ? "" : text + ": "
    }

    /// What a value of `type` is written as.
    private static func expectation(_ type: Any.Type, at path: [any CodingKey]) -> String {
        switch type {
        case is SizeValue.Type: return "a size: bytes, or a number with K, M, G or T (e.g. 64G)"
        case is ModeValue.Type: return "a mode in octal (e.g. \"0644\")"
        case is UInt32.Type, is UInt64.Type: return "a whole number, 0 or more"
        case is String.Type: return "a single value (text or a number)"
        case is Node.Sequence.Type, is [DeviceEntry].Type, is [FileEntry].Type: return "a list (- item, or [ ... ])"
        case is Node.Mapping.Type where path.isEmpty:
            return "a mapping with some of the keys \(keyList)"
        case is Node.Mapping.Type: return "a mapping (key: value, or { ... })"
        case is Node.Scalar.Type: return "a single value, not a list or a mapping"
        default: return "\(type)"
        }
    }

    /// A YAML syntax error: its line and column, the problem, and the line it is on.
    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, let yaml), .parser(let context, let problem, let mark, let yaml),
             .composer(let context, let problem, let mark, let yaml):
            let during = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return "line \(mark.line), column \(mark.column): \(problem)\(during)\n" + mark.snippet(from: yaml)
        default:
            return "\(error)"
        }
    }
}

extension Decoder {
    /// The keyed container of a mapping whose keys must all be among `Keys`; an unknown key
    /// is refused, naming it and the keys allowed there.
    fileprivate func mapping<Keys: CodingKey & CaseIterable>(keyedBy keys: Keys.Type) throws -> KeyedDecodingContainer<Keys> {
        let allowed = Keys.allCases.map(\.stringValue)
        let unknown = try container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter { !allowed.contains($0) }
        guard unknown.isEmpty else {
            let names = unknown.map { "'\($0)'" }.joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: codingPath,
                debugDescription: "unknown key\(unknown.count == 1 ? "" : "s") \(names); the keys here are \(allowed.joined(separator: ", "))"))
        }
        return try container(keyedBy: keys)
    }
}

/// Any key of a mapping, to list them all.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A size written as a number or as text with a K/M/G/T suffix.
struct SizeValue: Decodable {
    var bytes: UInt64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            bytes = number
        } else {
            guard let text = try? container.decode(String.self) else {
                throw DecodingError.typeMismatch(SizeValue.self, .init(codingPath: decoder.codingPath, debugDescription: "not a size"))
            }
            guard let parsed = SizeText.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a size (e.g. 2M, 64G)")
            }
            bytes = parsed
        }
    }
}

/// A file mode written as an octal string ("0644", "100600") or a number.
struct ModeValue: Decodable {
    var value: UInt32

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let parsed = UInt32(text, radix: 8) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an octal mode")
            }
            value = parsed
        } else {
            guard let number = try? container.decode(UInt32.self) else {
                throw DecodingError.typeMismatch(ModeValue.self, .init(codingPath: decoder.codingPath, debugDescription: "not a mode"))
            }
            value = number
        }
    }
}
