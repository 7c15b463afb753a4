import Fmap
import Foundation

/// `famfs-policy eval --svg`: each device's memory as a bar, showing which file and strip
/// holds each range, what is reserved and what is free. Opens in any browser.
///
/// Every range is a `<rect>` whose data attributes say exactly what it is, so tools and
/// tests can read the picture back: `data-device`, `data-offset` and `data-length` (bytes),
/// and `class` `used` (with `data-file`, `data-extent`, and `data-strip` for interleaved
/// strips), `free` or `reserved`. Hovering a range shows the same as a tooltip.
public enum EvalPicture {
    static let width = 1000.0
    static let labelWidth = 230.0
    static let barHeight = 22.0
    static let rowHeight = 34.0
    static let top = 46.0
    static let legendLimit = 64

    /// The report as an SVG document. Bars share one scale: the largest device spans the width.
    public static func svg(_ report: EvalReport, policy: String) -> String {
        let barWidth = width - labelWidth - 20
        let largest = Double(report.devices.map(\.size).max() ?? 1)
        let scale = barWidth / max(largest, 1)
        let colors = Dictionary(report.files.enumerated().map { ($1.path, color($0)) }, uniquingKeysWith: { a, _ in a })
        var body: [String] = []
        let used = report.devices.reduce(0) { $0 + $1.used }
        let total = report.devices.reduce(0) { $0 + $1.size }
        body.append(text(x: 10, y: 22, "policy \(policy): \(CountText.format(report.files.count, "file")) over \(CountText.format(report.devices.count, "device")), "
                         + "\(SizeText.format(used)) of \(SizeText.format(total)) used — \(report.valid ? "valid" : "INVALID")",
                         attributes: #"font-size="15" font-weight="bold""#))
        for (row, device) in report.devices.enumerated() {
            let y = top + Double(row) * rowHeight
            let percent = device.size == 0 ? 0 : Double(device.used) * 100 / Double(device.size)
            body.append(text(x: 10, y: y + 15, "\(device.index) \(device.path) \(SizeText.format(device.size)) (\(String(format: "%.1f", percent))%)"))
            body.append(#"<g class="device" data-device="\#(device.index)" data-path="\#(escape(device.path))" data-size="\#(device.size)">"#)
            for range in ranges(on: device, report: report) {
                let x = labelWidth + Double(range.offset) * scale
                let w = max(Double(range.length) * scale, 0.5)
                var attributes = #"class="\#(range.kind)" data-device="\#(device.index)" data-offset="\#(range.offset)" data-length="\#(range.length)""#
                let fill: String
                var tooltip = "device \(device.index) 0x\(String(range.offset, radix: 16)) +\(SizeText.format(range.length))"
                switch range.kind {
                case "used":
                    attributes += #" data-file="\#(escape(range.file))" data-extent="\#(range.extent)""#
                    if let strip = range.strip {
                        attributes += #" data-strip="\#(strip)""#
                        tooltip = "\(range.file): strip \(strip) of \(range.stripCount) (file chunks \(strip), \(strip + range.stripCount), …) — " + tooltip
                    } else {
                        tooltip = "\(range.file): extent \(range.extent) — " + tooltip
                    }
                    fill = colors[range.file] ?? "#888"
                case "reserved":
                    fill = "#bbb"
                    tooltip = "reserved (superblock and log) — " + tooltip
                default:
                    fill = "#f4f4f4"
                    tooltip = "free — " + tooltip
                }
                body.append(#"<rect \#(attributes) x="\#(format(x))" y="\#(format(y))" width="\#(format(w))" height="\#(format(barHeight))" fill="\#(fill)"><title>\#(escape(tooltip))</title></rect>"#)
            }
            body.append(##"<rect x="\##(format(labelWidth))" y="\##(format(y))" width="\##(format(Double(device.size) * scale))" height="\##(format(barHeight))" fill="none" stroke="#666" stroke-width="0.5"/>"##)
            body.append("</g>")
        }
        var y = top + Double(report.devices.count) * rowHeight + 10
        body.append(text(x: 10, y: y, "files", attributes: #"font-weight="bold""#))
        for file in report.files.prefix(legendLimit) {
            y += 18
            let swatch = file.error == nil ? (file.fmap == nil ? "#fff" : colors[file.path] ?? "#888") : "#fff"
            body.append(##"<rect x="10" y="\##(format(y - 11))" width="12" height="12" fill="\##(swatch)" stroke="#666" stroke-width="0.5"/>"##)
            let what = file.error.map { "ERROR \($0)" }
                ?? (file.fmap == nil ? "passthrough \(file.backingPath ?? "")" : (file.placement?.rawValue ?? "dax"))
            body.append(text(x: 28, y: y, "\(file.path) \(SizeText.format(file.size)): \(what)",
                             attributes: file.error == nil ? "" : ##"fill="#b00""##))
        }
        if report.files.count > legendLimit {
            y += 18
            body.append(text(x: 28, y: y, "… and \(report.files.count - legendLimit) more files"))
        }
        let height = y + 20
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(format(width))" height="\(format(height))" viewBox="0 0 \(format(width)) \(format(height))" font-family="sans-serif" font-size="12">
            \(body.joined(separator: "\n"))
            </svg>

            """
    }

    /// One drawn range of a device.
    struct Range {
        var kind: String
        var offset: UInt64
        var length: UInt64
        var file = ""
        var extent = 0
        var strip: Int?
        var stripCount = 0
    }

    /// The device's used ranges from the fmaps, its reserved start, and free gaps, by offset.
    static func ranges(on device: EvalReport.DeviceUsage, report: EvalReport) -> [Range] {
        var used: [Range] = []
        for file in report.files {
            guard let fmap = file.fmap else { continue }
            switch fmap.extents {
            case .simple(let extents):
                for (i, e) in extents.enumerated() where e.device == device.index {
                    used.append(Range(kind: "used", offset: e.offset, length: e.length, file: file.path, extent: i))
                }
            case .interleaved(let extents):
                for (i, extent) in extents.enumerated() {
                    for (s, e) in extent.strips.enumerated() where e.device == device.index {
                        used.append(Range(kind: "used", offset: e.offset, length: e.length, file: file.path, extent: i,
                                          strip: s, stripCount: extent.strips.count))
                    }
                }
            }
        }
        used.sort { $0.offset < $1.offset }
        var result: [Range] = []
        let reservedBytes = Int(device.index) < report.reservedBytes.count ? report.reservedBytes[Int(device.index)] : 0
        let reserved = min((reservedBytes + FmapLimits.mib2 - 1) / FmapLimits.mib2 * FmapLimits.mib2, device.size)
        if reserved > 0 { result.append(Range(kind: "reserved", offset: 0, length: reserved)) }
        var cursor = reserved
        for range in used {
            if range.offset > cursor { result.append(Range(kind: "free", offset: cursor, length: range.offset - cursor)) }
            result.append(range)
            cursor = max(cursor, range.offset + range.length)
        }
        if cursor < device.size { result.append(Range(kind: "free", offset: cursor, length: device.size - cursor)) }
        return result
    }

    /// A distinct hue per file, spaced by the golden angle.
    static func color(_ index: Int) -> String {
        let hue = (Double(index) * 137.508).truncatingRemainder(dividingBy: 360)
        return "hsl(\(String(format: "%.0f", hue)),65%,55%)"
    }

    static func text(x: Double, y: Double, _ content: String, attributes: String = "") -> String {
        #"<text x="\#(format(x))" y="\#(format(y))"\#(attributes.isEmpty ? "" : " " + attributes)>\#(escape(content))</text>"#
    }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }

    static func escape(_ text: String) -> String {
        var result = ""
        for c in text {
            switch c {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(c)
            }
        }
        return result
    }
}
