import Foundation
import PolicyEval

/// The repository's bundled policies folder.
let policiesFolder: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/policies"
}()

/// `count` devices of `size` bytes named like devdax devices.
func evalDevices(_ count: Int, size: UInt64) -> [EvalInput.Device] {
    (0..<count).map { EvalInput.Device(path: "/dev/dax\($0).0", size: size) }
}

/// Writes `text` as a policy file in a fresh folder and returns its path.
func writePolicy(_ text: String) throws -> String {
    let folder = NSTemporaryDirectory() + "eval-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/policy.lua"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
