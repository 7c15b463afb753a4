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
            device bounds, no overlaps), per-device usage and balance, and the path the policy's \
            resolve_device names each device to the kernel. Exits 0 only when every file got a \
            valid placement and every device a path. Sizes take K, M, G or T suffixes (powers of 1024). \
            --svg also draws each device's memory: which file and strip holds each range, and \
            what is free.

            Examples:
              famfs-policy eval --policy policies/stripe.lua \\
                  --device /dev/dax0.0=64G --device /dev/dax1.0=64G --file /data/a=10M --file /data/b=1G
              famfs-policy eval --input examples/eval-16-devices.yaml --json
              famfs-policy eval --input examples/eval-mixed.yaml --set width=2 --svg /tmp/layout.svg
            """)

    @Option(help: "The policy file (Lua); may instead be named by --input.")
    var policy: String?

    @Option(name: .customLong("file"), help: "A file as PATH=SIZE, e.g. /data/a=10M; repeat for more.")
    var files: [String] = []

    @OptionGroup var inputs: PolicyInputOptions

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Also write a picture of each device's memory to this SVG file (open it in a browser).",
                               valueName: "file"))
    var svg: String?

    func run() throws {
        let evalInput = try inputs.evalInput(files: files)
        guard let policyPath = policy ?? evalInput.policyPath else {
            throw ValidationError("Name the policy: --policy policies/stripe.lua (or 'policy:' in the --input file).")
        }
        guard FileManager.default.fileExists(atPath: policyPath) else {
            throw ValidationError(policy != nil
                ? "No file \(policyPath). Name a policy, e.g. famfs-policy eval --policy policies/stripe.lua --device /dev/dax0.0=64G --file /data/a=10M."
                : "No file \(policyPath), which 'policy:' in \(inputs.input ?? "the --input file") names (relative to that file's folder). Fix it, or name one with --policy policies/stripe.lua.")
        }
        guard !evalInput.devices.isEmpty else {
            throw ValidationError("Describe at least one device: --device /dev/dax0.0=64G (or 'devices:' in the --input file).")
        }
        guard !evalInput.files.isEmpty else {
            throw ValidationError("Describe at least one file to lay out: --file /data/a=10M (or 'files:' in the --input file).")
        }
        let report = PolicyEvaluator.evaluate(policyPath: policyPath, input: evalInput, limits: try inputs.limits())
        print(json ? report.json() : report.text(policy: policyPath))
        if let svg {
            do {
                try EvalPicture.svg(report, policy: policyPath).write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                throw ValidationError("Cannot write the --svg file \(svg): \(error.localizedDescription). Name a writable path, e.g. --svg /tmp/layout.svg.")
            }
            if !json { print("picture: \(svg)") }
        }
        if !report.valid { throw ExitCode.failure }
    }
}
