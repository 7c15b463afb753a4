import ArgumentParser
import Metadata
import SystemPackage

/// `famfs-policy takeover`: frees the lease of a leader that died, so another can start.
struct TakeoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "takeover",
        abstract: "Free the leader's lease on the log and make this host the log's owner.",
        discussion: """
            For a leader that is dead on a host you cannot reach (a leader killed on this host \
            is replaced without it: a new famfs-policyd sees the old process is gone). Writes a \
            released lease record in the primary device and, if another host owned the log, \
            records this host as its owner in the superblock. Then start famfs-policyd here. A \
            leader that was still running loses the lease: its next append or heartbeat fails \
            and it refuses every change (EROFS) from then on. Followers keep following.

            Example:
              famfs-policy takeover /dev/dax0.0
              famfs-policyd --policy policies/stripe.lua /dev/dax0.0 /dev/dax1.0 /mnt/famfs
            """)

    @Argument(help: ArgumentHelp("The primary device (the first one mkfs was given).", valueName: "DEV0"))
    var primary: String

    func run() throws {
        let host: MediaUUID
        do { host = try SystemUUID.current() } catch {
            throw ValidationError("Cannot determine this host's system uuid (\(error)); create /etc/machine-id with systemd-machine-id-setup.")
        }
        let result: LeaderLease.Takeover
        do {
            result = try LeaderLease.takeover(primary: FilePath(primary), host: host)
        } catch {
            throw TakeoverFailure(message: "takeover: \(error)")
        }
        print("lease on \(primary) released (it was \(result.previous.map(\.description) ?? "never held"))")
        if let owner = result.previousOwner {
            print("log owner changed from host \(owner) to this host \(host)")
        }
        print("start famfs-policyd on this host to lead")
    }
}

/// The takeover's failure: the message goes to standard error, the exit status is 1.
private struct TakeoverFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
