import Foundation
import CFuseABIReference
import Fmap
import Testing
import WireBytes

func cBytes(_ fill: (UnsafeMutablePointer<UInt8>?) -> Int) -> [UInt8] {
    var buffer = [UInt8](repeating: 0xEE, count: 4096)
    let size = buffer.withUnsafeMutableBufferPointer { fill($0.baseAddress) }
    return Array(buffer[..<size])
}

@Suite("GET_FMAP reply bytes")
struct WireFormatTests {
    @Test func simpleFmapMatchesTheCLayout() throws {
        let fmap = Fmap(fileSize: 6 * mib, extents: .simple([SimpleExtent(device: 0, offset: 2 * mib, length: 4 * mib),
                                                              SimpleExtent(device: 1, offset: 10 * mib, length: 2 * mib)]))
        let reference = cBytes(ref_famfs_fmap_simple)
        #expect(FmapWireFormat.encode(fmap) == reference)
        #expect(FmapWireFormat.encodedSize(of: fmap) == reference.count)
        #expect(try FmapWireFormat.decode(reference[...]) == fmap)
    }

    @Test func interleavedFmapMatchesTheCLayout() throws {
        let fmap = Fmap(fileSize: 5 * mib, extents: .interleaved([InterleavedExtent(
            chunkSize: 2 * mib, byteCount: 6 * mib,
            strips: [SimpleExtent(device: 0, offset: 4 * mib, length: 4 * mib), SimpleExtent(device: 3, offset: 0, length: 2 * mib)])]))
        let reference = cBytes(ref_famfs_fmap_interleaved)
        #expect(FmapWireFormat.encode(fmap) == reference)
        #expect(try FmapWireFormat.decode(reference[...]) == fmap)
    }

    @Test func randomFmapsRoundTrip() throws {
        var generator = TinyFmapGenerator()
        for _ in 0..<500 {
            var fmap = generator.make()
            fmap.fileType = FamfsFileType.allCases.randomElement()!
            #expect(try FmapWireFormat.decode(FmapWireFormat.encode(fmap)[...]) == fmap)
        }
    }

    @Test func everyTruncationIsRefused() {
        for reference in [cBytes(ref_famfs_fmap_simple), cBytes(ref_famfs_fmap_interleaved)] {
            for cut in 0..<reference.count {
                #expect(throws: WireDecodingError.self) { try FmapWireFormat.decode(reference[..<cut]) }
            }
        }
    }

    @Test func lyingCountsAreRefusedBeforeAllocating() {
        var simple = cBytes(ref_famfs_fmap_simple)
        simple.replaceSubrange(8..<12, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WireDecodingError.invalidLength(
            field: "fmap header.nextents", value: 0xFFFF_FFFF,
            reason: "4294967295 elements of 24 bytes cannot fit in the 48 bytes left")) {
            try FmapWireFormat.decode(simple[...])
        }
        var interleaved = cBytes(ref_famfs_fmap_interleaved)
        interleaved.replaceSubrange(32..<36, with: [3, 0, 0, 0])
        #expect {
            try FmapWireFormat.decode(interleaved[...])
        } throws: { error in
            guard case .invalidLength(let field, _, _) = error as? WireDecodingError else { return false }
            return field == "extents[0].ie_nstrips"
        }
    }

    @Test func headerFieldsAreChecked() {
        let reference = cBytes(ref_famfs_fmap_simple)
        var badType = reference
        badType[0] = 3
        #expect(throws: WireDecodingError.invalidValue(field: "fmap header.file_type", value: 3, reason: "expected 0, 1 or 2")) {
            try FmapWireFormat.decode(badType[...])
        }
        var badVersion = reference
        badVersion[2] = 2
        #expect(throws: WireDecodingError.self) { try FmapWireFormat.decode(badVersion[...]) }
        var badExtentType = reference
        badExtentType[4] = 2
        #expect(throws: WireDecodingError.self) { try FmapWireFormat.decode(badExtentType[...]) }
        #expect(throws: WireDecodingError.self) { try FmapWireFormat.decode((reference + [0])[...]) }
    }

    @Test func theSmallestValidMessageIs56Bytes() throws {
        let fmap = Fmap(fileSize: 1, extents: .simple([SimpleExtent(device: 0, offset: 0, length: 2 * mib)]))
        try fmap.validate(limits: .kernel)
        #expect(FmapWireFormat.encode(fmap).count == 56)
    }
}

@Suite("Fmap JSON")
struct FmapJSONTests {
    @Test func jsonUsesTheDocumentedKeys() throws {
        let fmap = stripedFmap()
        let json = try #require(String(data: try JSONEncoder.sorted.encode(fmap), encoding: .utf8))
        #expect(json == #"{"ext_type":"interleaved","extents":[{"chunk_size":2097152,"nbytes":8388608,"nstrips":2,"#
                + #""strips":[{"dev":0,"length":4194304,"offset":4194304},{"dev":1,"length":4194304,"offset":4194304}]}],"#
                + #""file_size":8388608}"#)
        #expect(try JSONDecoder().decode(Fmap.self, from: Data(json.utf8)) == fmap)
    }

    @Test func simpleFmapsRoundTrip() throws {
        let fmap = simpleFmap([SimpleExtent(device: 1, offset: 0, length: 2 * mib)], fileSize: 100)
        let data = try JSONEncoder.sorted.encode(fmap)
        #expect(String(data: data, encoding: .utf8) == #"{"ext_type":"simple","extents":[{"dev":1,"length":2097152,"offset":0}],"file_size":100}"#)
        #expect(try JSONDecoder().decode(Fmap.self, from: data) == fmap)
    }

    @Test func inconsistentJSONIsRefused() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Fmap.self, from: Data(#"{"file_size":1,"ext_type":"striped","extents":[]}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Fmap.self, from: Data(#"{"file_size":1,"ext_type":"interleaved","extents":[{"nstrips":3,"chunk_size":4096,"nbytes":1,"strips":[]}]}"#.utf8))
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
