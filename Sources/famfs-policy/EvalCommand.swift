import ArgumentParser
import Foundation
import Policy
import PolicyEval

/// `famfs-policy eval`: runs a policy over described devices and files without mounting.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Run a layout policy over described devices and files, without mounting.",
        discussion: """
            Prints each file's placement and fmap, whether every fmap is valid (kernel limits, \
            device bounds, no overlaps), and per-device usage and balance. Exits 0 only when \
            every file got a valid placement. Sizes take K, M, G or T suffixes (powers of 1024).
            """)

    @Option(help: "The policy file (Lua); may instead be named by --input.")
    var policy: String?

    @Option(name: .customLong("device"), help: "A device as PATH=SIZE, e.g. /dev/dax0.0=64G; repeat for more.")
    var devices: [String] = []

    @Option(name: .customLong("file"), help: "A file as PATH=SIZE, e.g. /data/a=10M; repeat for more.")
    var files: [String] = []

    @Option(help: "A YAML or JSON file with devices, files, config and optionally the policy (see examples/).")
    var input: String?

    @Option(name: .customLong("set"), help: "A policy config value as KEY=VALUE (the script's config table); repeat for more.")
    var settings: [String] = []

    @Option(help: "Bytes reserved at the start of every device, never allocated (e.g. 8M).")
    var reserve: String?

    @Option(name: .customLong("instruction-budget"), help: "Lua instructions one hook call may run.")
    var instructionBudget = PolicyLimits().instructionBudget

    @Option(name: .customLong("memory-limit"), help: "Bytes the policy's Lua state may hold (e.g. 64M).")
    var memoryLimit = "64M"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        var evalInput = try readInput()
        guard let policyPath = policy ?? evalInput.policyPath else {
            throw ValidationError("Name the policy: --policy policies/stripe.lua (or 'policy:' in the --input file).")
        }
        guard !evalInput.devices.isEmpty else {
            throw ValidationError("Describe at least one device: --device /dev/dax0.0=64G (or 'devices:' in the --input file).")
        }
        guard let memory = SizeText.parse(memoryLimit), memory > 0 else {
            throw ValidationError("--memory-limit '\(memoryLimit)' is not a size, e.g. 64M.")
        }
        if let reserve {
            guard let bytes = SizeText.parse(reserve) else { throw ValidationError("--reserve '\(reserve)' is not a size, e.g. 8M.") }
            evalInput.reservedBytes = bytes
        }
        let limits = PolicyLimits(instructionBudget: instructionBudget, memoryBytes: Int(clamping: memory))
        let report = PolicyEvaluator.evaluate(policyPath: policyPath, input: evalInput, limits: limits)
        print(json ? report.json() : report.text(policy: policyPath))
        if !report.valid { throw ExitCode.failure }
    }

    /// The --input file (if any) with the --device, --file and --set arguments added.
    private func readInput() throws -> EvalInput {
        var result = EvalInput()
        do {
            if let input {
                guard let text = try? String(contentsOfFile: input, encoding: .utf8) else {
                    throw ValidationError("Cannot read the --input file \(input).")
                }
                let folder = (input as NSString).deletingLastPathComponent
                result = try EvalInput.parse(yaml: text, folder: folder.isEmpty ? "." : folder)
            }
            for device in devices {
                let (path, size) = try EvalInput.assignment(device)
                result.devices.append(.init(path: path, size: size))
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
        return result
    }
}
