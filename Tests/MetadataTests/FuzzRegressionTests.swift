import Fmap
@testable import Metadata
import Testing

/// Inputs the fuzzers (Fuzz/) found that once crashed; each is also kept in Fuzz/corpus/.
@Suite("Fuzz regressions in the metadata layer")
struct FuzzRegressionTests {
    /// Fuzz/corpus/FuzzLogReplay/regression-device-of-2-pow-64-bytes: replay sized an
    /// allocation bitmap from the entry before anything checked the device, and trapped.
    @Test("an ADD_DAXDEV entry claiming an absurd device size is a finding, not a crash")
    func absurdDeviceSizeIsRefused() throws {
        let fixture = try Fixture()
        let path = try fixture.device("dev0")
        try fixture.mkfs([path])
        let uuid = try #require(MediaUUID(bytes: [UInt8](repeating: 7, count: 16)))
        try fixture.rawAppend(.addDevice(DeviceEntry(index: 1, size: .max, uuid: uuid)), to: path)
        let image = try fixture.open([path], access: .readOnly)
        #expect(image.devices.count == 1)
        let finding = try #require(image.findings.first)
        #expect(finding.isFault)
        #expect("\(finding)".contains("is too large (18446744073709551615 bytes"))
    }

    @Test("the largest device replay accepts is taken, one allocation unit more is refused")
    func deviceSizeBoundIsExact() throws {
        let unit = FamfsMedia.allocationUnit
        for (units, accepted) in [(LogReplay.maximumUnitsPerDevice, true), (LogReplay.maximumUnitsPerDevice + 1, false)] {
            let fixture = try Fixture()
            let path = try fixture.device("dev0")
            try fixture.mkfs([path])
            let uuid = try #require(MediaUUID(bytes: [UInt8](repeating: 9, count: 16)))
            try fixture.rawAppend(.addDevice(DeviceEntry(index: 1, size: units * unit, uuid: uuid)), to: path)
            if accepted {
                // Replay took the device, so the image asks for its path.
                #expect(throws: ImageError.missingDevice(index: 1, uuid: uuid)) { try fixture.open([path], access: .readOnly) }
            } else {
                let findings = try fixture.open([path], access: .readOnly).findings
                #expect(findings.contains { "\($0)".contains("is too large") }, "\(findings)")
            }
        }
    }
}
