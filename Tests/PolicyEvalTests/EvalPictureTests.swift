import Fmap
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import PolicyEval
import Testing

/// The `<rect>` elements of an SVG document, each as its attributes; throws if the XML is malformed.
private final class RectCollector: NSObject, XMLParserDelegate {
    var rects: [[String: String]] = []
    var root: String?

    static func parse(_ svg: String) throws -> RectCollector {
        let collector = RectCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw XMLFailure(description: "\(parser.parserError.map { "\($0)" } ?? "unknown") at line \(parser.lineNumber)")
        }
        return collector
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        if root == nil { root = name }
        if name == "rect" { rects.append(attributes) }
    }

    struct XMLFailure: Error, CustomStringConvertible { var description: String }
}

@Suite struct EvalPictureTests {
    /// Striped, simple, passthrough and oddly named files over three devices with a reserve.
    static func report() -> EvalReport {
        let input = EvalInput(devices: evalDevices(3, size: 256 << 20),
                              files: [.init(path: "/data/a&b <1>.bin", size: 13 << 20), .init(path: "/small", size: 1),
                                      .init(path: "/data/c", size: 40 << 20)],
                              config: ["width": "3"], reservedBytes: 8 << 20)
        return PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
    }

    @Test func theSVGIsWellFormedAndItsUsedRectanglesAreExactlyTheFmaps() throws {
        let report = Self.report()
        #expect(report.valid)
        let svg = try RectCollector.parse(EvalPicture.svg(report, policy: "stripe.lua"))
        #expect(svg.root == "svg")
        struct Range: Hashable { var file: String, extent: Int, strip: Int?, device: UInt32, offset: UInt64, length: UInt64 }
        var expected: [Range] = []
        for file in report.files {
            switch try #require(file.fmap).extents {
            case .simple(let extents):
                for (i, e) in extents.enumerated() {
                    expected.append(Range(file: file.path, extent: i, strip: nil, device: e.device, offset: e.offset, length: e.length))
                }
            case .interleaved(let extents):
                for (i, extent) in extents.enumerated() {
                    for (s, e) in extent.strips.enumerated() {
                        expected.append(Range(file: file.path, extent: i, strip: s, device: e.device, offset: e.offset, length: e.length))
                    }
                }
            }
        }
        let drawn = try svg.rects.filter { $0["class"] == "used" }.map { rect in
            Range(file: try #require(rect["data-file"]), extent: try #require(Int(rect["data-extent"] ?? "")),
                  strip: rect["data-strip"].flatMap { Int($0) }, device: try #require(UInt32(rect["data-device"] ?? "")),
                  offset: try #require(UInt64(rect["data-offset"] ?? "")), length: try #require(UInt64(rect["data-length"] ?? "")))
        }
        #expect(drawn.count == expected.count)
        #expect(Set(drawn) == Set(expected))
        #expect(drawn.contains { $0.file == "/data/a&b <1>.bin" })
    }

    @Test func eachDeviceIsTiledByReservedUsedAndFreeRanges() throws {
        let report = Self.report()
        let svg = try RectCollector.parse(EvalPicture.svg(report, policy: "stripe.lua"))
        for device in report.devices {
            let ranges = svg.rects.filter { $0["data-device"] == "\(device.index)" && $0["class"] != nil }
                .map { (kind: $0["class"]!, offset: UInt64($0["data-offset"]!)!, length: UInt64($0["data-length"]!)!) }
                .sorted { $0.offset < $1.offset }
            #expect(ranges.first?.kind == "reserved" && ranges.first?.length == 8 << 20)
            var cursor: UInt64 = 0
            for range in ranges {
                #expect(range.offset == cursor, "device \(device.index): gap or overlap at \(cursor)")
                cursor = range.offset + range.length
            }
            #expect(cursor == device.size)
            #expect(ranges.filter { $0.kind == "used" }.reduce(0) { $0 + $1.length } == device.used)
        }
    }
}
