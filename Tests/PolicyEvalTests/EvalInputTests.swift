import Foundation
import PolicyEval
import Testing

@Suite struct EvalInputTests {
    @Test func assignmentsSplitAtTheLastEquals() throws {
        #expect(try EvalInput.assignment("/dev/dax0.0=64G") == ("/dev/dax0.0", 64 << 30))
        #expect(try EvalInput.assignment("/data/a=b=2M") == ("/data/a=b", 2 << 20))
        #expect(throws: EvalInputError.self) { try EvalInput.assignment("/dev/dax0.0") }
        #expect(throws: EvalInputError.self) { try EvalInput.assignment("/dev/dax0.0=lots") }
    }

    @Test func deviceArgumentsMayNameANumaNode() throws {
        #expect(try EvalInput.device("/dev/dax0.0=64G") == .init(path: "/dev/dax0.0", size: 64 << 30))
        #expect(try EvalInput.device("/dev/dax1.0=64G@1") == .init(path: "/dev/dax1.0", size: 64 << 30, numaNode: 1))
        #expect(try EvalInput.device("/shm/a@b=1G") == .init(path: "/shm/a@b", size: 1 << 30), "an @ in the path is the path's")
        #expect { try EvalInput.device("/dev/dax0.0=64G@one") } throws: {
            ($0 as? EvalInputError)?.description == "'one' in '/dev/dax0.0=64G@one' is not a NUMA node; write PATH=SIZE@NODE, e.g. /dev/dax0.0=64G@1"
        }
        #expect(throws: EvalInputError.self) { try EvalInput.device("/dev/dax0.0=@1") }
    }

    @Test func yamlDevicesMayNameANumaNode() throws {
        let yaml = """
            devices:
              - { path: "/dev/dax{n}.0", size: 64G, count: 2, numa_node: 0 }
              - { path: "/dev/dax{n}.1", size: 64G, count: 1, numa_node: 1 }
              - { path: /dev/shm/dev0, size: 1G }
            """
        let input = try EvalInput.parse(yaml: yaml, folder: ".")
        #expect(input.devices.map(\.numaNode) == [0, 0, 1, nil])
    }

    @Test func yamlDescribesDevicesFilesConfigAndPolicy() throws {
        let yaml = """
            policy: ../policies/stripe.lua
            reserve: 8M
            config:
              width: 4
              pick: random
            devices:
              - { path: "/dev/dax{n}.0", size: 64G, count: 3 }
              - path: /dev/dax9.0
                size: 1073741824
            files:
              - { path: /data/a, size: 10M, uid: 1000, gid: 100, mode: "0600" }
              - { path: "/data/many{n}", size: 1K, count: 2 }
            """
        let input = try EvalInput.parse(yaml: yaml, folder: "/work/examples")
        #expect(input.policyPath == "/work/examples/../policies/stripe.lua")
        #expect(input.reservedBytes == 8 << 20)
        #expect(input.config == ["width": "4", "pick": "random"])
        #expect(input.devices.map(\.path) == ["/dev/dax0.0", "/dev/dax1.0", "/dev/dax2.0", "/dev/dax9.0"])
        #expect(input.devices.map(\.size) == [64 << 30, 64 << 30, 64 << 30, 1 << 30])
        #expect(input.files == [
            .init(path: "/data/a", size: 10 << 20, uid: 1000, gid: 100, mode: 0o100600),
            .init(path: "/data/many0", size: 1024), .init(path: "/data/many1", size: 1024),
        ])
    }

    @Test func jsonIsAcceptedToo() throws {
        let json = #"{"devices": [{"path": "/dev/dax0.0", "size": "2G"}], "files": [{"path": "/a", "size": 5}]}"#
        let input = try EvalInput.parse(yaml: json, folder: ".")
        #expect(input.devices == [.init(path: "/dev/dax0.0", size: 2 << 30)])
        #expect(input.files == [.init(path: "/a", size: 5)])
    }

    @Test func badSizesAreReported() throws {
        #expect { try EvalInput.parse(yaml: "devices:\n  - { path: /d, size: huge }\n", folder: ".") } throws: {
            ($0 as? EvalInputError)?.description.contains("'huge' is not a size") == true
        }
    }

    /// The error `yaml` fails with, as `famfs-policy eval` prints it.
    private func inputError(_ yaml: String) -> String? {
        do {
            _ = try EvalInput.parse(yaml: yaml, folder: ".", source: "examples/x.yaml")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aMissingKeyIsNamedWithTheEntryItIsMissingFrom() {
        let error = inputError("""
            devices:
              - { path: /dev/dax0.0, size: 1G }
              - { path: /dev/dax1.0, size: 1G }
              - { path: /dev/dax2.0 }
            """)
        #expect(error == "examples/x.yaml: devices[2]: missing 'size'")
    }

    @Test func unknownKeysAreRefusedNamingTheAllowedOnes() {
        #expect(inputError("devics:\n  - { path: /dev/dax0.0, size: 1G }\n")
                == "examples/x.yaml: unknown key 'devics'; the keys here are policy, config, reserve, devices, files")
        #expect(inputError("devices:\n  - { path: /d, size: 1G, uid: 5, node: 1 }\n")
                == "examples/x.yaml: devices[0]: unknown keys 'uid', 'node'; the keys here are path, size, count, numa_node")
        #expect(inputError("files:\n  - { path: /f, size: 1M, numa_node: 1 }\n")
                == "examples/x.yaml: files[0]: unknown key 'numa_node'; the keys here are path, size, count, uid, gid, mode")
        #expect(inputError(#"{"files": [{"path": "/f", "size": 1, "owner": 3}]}"#)?.contains("files[0]: unknown key 'owner'") == true)
    }

    @Test func wrongValuesSayWhatIsExpectedThere() {
        #expect(inputError("devices:\n  - { path: /d, size: 1G, count: -1 }\n")
                == "examples/x.yaml: devices[0].count: expected a whole number, 0 or more")
        #expect(inputError("devices:\n  - { path: /d, size: [1] }\n")
                == "examples/x.yaml: devices[0].size: expected a size: bytes, or a number with K, M, G or T (e.g. 64G)")
        #expect(inputError("devices: { path: /d, size: 1G }\n") == "examples/x.yaml: devices: expected a list (- item, or [ ... ])")
        #expect(inputError("config: { width: [1, 2] }\n") == "examples/x.yaml: config.width: expected a single value, not a list or a mapping")
        #expect(inputError("- 1\n") == "examples/x.yaml: expected a mapping with some of the keys policy, config, reserve, devices, files")
        #expect(inputError(" \n") == "examples/x.yaml is empty; give it some of the keys policy, config, reserve, devices, files, e.g. examples/eval-mixed.yaml")
    }

    @Test func yamlSyntaxErrorsGiveTheLineAndShowIt() throws {
        let error = try #require(inputError("devices: [ { path: /d, size: 1G }\n"))
        #expect(error.hasPrefix("examples/x.yaml: not valid YAML: line 2, column 1: did not find expected ',' or ']'"), "\(error)")
        #expect(error.contains("\ndevices: [ { path: /d, size: 1G }\n^"), "\(error)")
    }

    @Test func decodingErrorsShowNoSwiftInternals() {
        for yaml in ["devices:\n  - { path: /d }\n", "devics: []\n", "devices: 3\n", "files:\n  - { path: /f, size: 1, mode: [1] }\n"] {
            let error = inputError(yaml) ?? ""
            #expect(!error.isEmpty && !error.contains("CodingKeys") && !error.contains("DecodingError") && !error.contains("Node"),
                    "\(yaml): \(error)")
        }
    }

    @Test func bundledExampleInputsParse() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.path + "/examples/eval-16-devices.yaml"
        let input = try EvalInput.parse(yaml: try String(contentsOfFile: path, encoding: .utf8), folder: url.path + "/examples")
        #expect(input.devices.count == 16)
        let report = PolicyEvaluator.evaluate(policyPath: try #require(input.policyPath), input: input)
        #expect(report.valid, "\(report.text(policy: "example"))")
    }
}
