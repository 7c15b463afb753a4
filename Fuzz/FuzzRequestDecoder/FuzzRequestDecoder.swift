import FuseWire
import FuzzSupport

/// One FUSE request as the kernel would write it to /dev/fuse: decoding never traps, and a
/// supported request that decodes encodes to bytes that decode to the same request.
func fuzzOne(_ bytes: [UInt8]) {
    for codec in [RequestCodec(famfsOpcodes: .posted), RequestCodec(famfsOpcodes: .rfcV2)] {
        // An unsupported opcode decodes without its body, so it has no bytes to round-trip.
        guard let request = try? codec.decode(bytes[...]), request.operation != .unsupported else { continue }
        let again: Request
        do { again = try codec.decode(codec.encode(request)[...]) } catch {
            FuzzReplay.fail("\(request) re-encodes to bytes that fail to decode: \(error)")
        }
        // Length and extensions are framing: an old-protocol INIT body re-encodes in the
        // current, longer form, and extension headers are skipped, not decoded.
        var header = again.header
        header.length = request.header.length
        header.totalExtensionLength = request.header.totalExtensionLength
        guard header == request.header, again.operation == request.operation else {
            FuzzReplay.fail("\(request) re-decodes as \(again)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// scripts/fuzz builds with -DFUZZING, and libFuzzer's main drives the function above.
#if !FUZZING
@main
enum FuzzRequestDecoderReplay {
    static func main() { FuzzReplay.main(Array(CommandLine.arguments.dropFirst()), fuzzOne) }
}
#endif
