import ArgumentParser
import Foundation
import Policy
import PolicyEval

/// The options eval and test share: the devices a policy sees, its config, its limits.
struct PolicyInputOptions: ParsableArguments {
    @Option(name: .customLong("device"), help: "A device as PATH=SIZE or PATH=SIZE@NUMA_NODE, e.g. /dev/dax0.0=64G@1; repeat for more.")
    var devices: [String] = []

    @Option(help: "A YAML or JSON file with devices, files, config and optionally the policy (see examples/).")
    var input: String?

    @Option(name: .customLong("set"), help: "A policy config value as KEY=VALUE (the script's config table); repeat for more.")
    var settings: [String] = []

    @Option(help: "Bytes never allocated at the start of every device (e.g. 8M). eval's default is what the daemon keeps: 10M on device 0 (superblock and log), 2M on the others; test's is none.")
    var reserve: String?

    @Option(name: .customLong("instruction-budget"), help: "Lua instructions one hook call (or one test) may run.")
    var instructionBudget = PolicyLimits().instructionBudget

    @Option(name: .customLong("memory-limit"), help: "Bytes the policy's Lua state may hold (e.g. 64M).")
    var memoryLimit = "64M"

    @Option(name: .customLong("time-limit"), help: "Seconds one hook call (or one test) may take, e.g. 0.5.")
    var timeLimit = 2.0

    /// The --input file (if any) with the --device, --set and --reserve arguments and `files` added.
    func evalInput(files: [String] = []) throws -> EvalInput {
        var result = EvalInput()
        do {
            if let input {
                guard let text = try? String(contentsOfFile: input, encoding: .utf8) else {
                    throw ValidationError("Cannot read the --input file \(input).")
                }
                let folder = (input as NSString).deletingLastPathComponent
                result = try EvalInput.parse(yaml: text, folder: folder.isEmpty ? "." : folder, source: input)
            }
            for device in devices {
                result.devices.append(try EvalInput.device(device))
            }
            for file in files {
                let (path, size) = try EvalInput.assignment(file)
                result.files.append(.init(path: path, size: size))
            }
        } catch let error as EvalInputError {
            throw ValidationError(error.description)
        }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw ValidationError("--set '\(setting)' is not KEY=VALUE, e.g. --set width=8.")
            }
            result.config[String(setting[..<equals])] = String(setting[setting.index(after: equals)...])
        }
        if let reserve {
            guard let bytes = SizeText.parse(reserve) else { throw ValidationError("--reserve '\(reserve)' is not a size, e.g. 8M.") }
            result.reservedBytes = bytes
        }
        var seen: Set<String> = []
        if let twice = result.devices.first(where: { !seen.insert($0.path).inserted }) {
            throw ValidationError("device \(twice.path) is given twice; give each device once, as mkfs takes them.")
        }
        return result
    }

    /// The instruction budget, memory cap and time limit.
    func limits() throws -> PolicyLimits {
        guard let memory = SizeText.parse(memoryLimit), memory > 0 else {
            throw ValidationError("--memory-limit '\(memoryLimit)' is not a size, e.g. 64M.")
        }
        guard instructionBudget > 0 else { throw ValidationError("--instruction-budget must be positive, e.g. 10000000.") }
        guard timeLimit > 0, timeLimit <= 3600 else { throw ValidationError("--time-limit must be between 0 and 3600 seconds, e.g. 2.") }
        return PolicyLimits(instructionBudget: instructionBudget, memoryBytes: Int(clamping: memory),
                            timeLimit: .milliseconds(Int64(timeLimit * 1000)))
    }
}
