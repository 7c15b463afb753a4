import Fmap
import FuzzSupport

/// A GET_FMAP reply body: decoding never traps; a decoded fmap re-encodes to the same bytes;
/// one that passes the kernel's rules resolves every offset inside the file to a range
/// inside one of its extents.
func fuzzOne(_ bytes: [UInt8]) {
    guard let fmap = try? FmapWireFormat.decode(bytes[...]) else { return }
    let encoded = FmapWireFormat.encode(fmap)
    guard let again = try? FmapWireFormat.decode(encoded[...]), again == fmap else {
        FuzzReplay.fail("\(fmap) does not survive encode and decode")
    }
    let deviceSizes = [UInt64](repeating: 1 << 40, count: FmapLimits.kernel.maxDevices)
    guard (try? fmap.validate(limits: .kernel, deviceSizes: deviceSizes)) != nil else { return }
    let resolver = FmapResolver(fmap)
    let probes: [UInt64] = [0, 1, 4095, 4096, FmapLimits.mib2 - 1, FmapLimits.mib2, fmap.fileSize / 2, fmap.fileSize &- 1]
    for offset in probes where offset < fmap.fileSize {
        guard let location = resolver.resolve(offset) else { FuzzReplay.fail("offset \(offset) of \(fmap) does not resolve") }
        guard location.contiguousBytes > 0, Int(location.device) < deviceSizes.count,
              location.deviceOffset < deviceSizes[Int(location.device)] else {
            FuzzReplay.fail("offset \(offset) of \(fmap) resolves to \(location)")
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
enum FuzzFmapDecoderReplay {
    static func main() { FuzzReplay.main(Array(CommandLine.arguments.dropFirst()), fuzzOne) }
}
#endif
