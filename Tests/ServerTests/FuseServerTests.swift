import Foundation
import LogCapture
import Metadata
import Server
import Synchronization
import SystemPackage
import Testing

@Suite("The FUSE message loop")
struct FuseServerTests {
    struct PolicyWouldNotLoad: Error, CustomStringConvertible {
        var description: String { "policy.lua:3: out of luck" }
    }

    @Test("a worker whose policy cannot load fails the serve, naming the worker and the cause, before INIT is answered")
    func aWorkerWithoutItsPolicyFailsTheServe() throws {
        let shared = try SharedDevices(count: 1)
        defer { shared.remove() }
        let image = try FamfsImage.open(devices: shared.devices.map { FilePath($0) }, access: .readWrite, host: try SystemUUID.current())
        let made = Mutex(0)
        let server = FuseServer(fileSystem: FileSystem(image: image, logger: CapturedLog().logger), makePolicy: {
            let number = made.withLock { count in
                defer { count += 1 }
                return count
            }
            guard number < 2 else { throw PolicyWouldNotLoad() }
            return ContiguousLayout()
        }, workerCount: 4, logger: CapturedLog().logger)

        var ends: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0)
        let kernelEnd = ends[0]
        defer { close(kernelEnd) }
        let initRequest = TestKernel.words([56, 26, 0, 0, 1, 0, 0, 0, 0, 0, 7, 31, 128 << 10, 1])
        #expect(send(kernelEnd, initRequest, initRequest.count, 0) == initRequest.count)

        let outcome = Mutex<String?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let channel = FuseChannel(owning: FileDescriptor(rawValue: ends[1]))
        Thread.detachNewThread {
            do {
                try server.serve(channel)
                outcome.withLock { $0 = "served" }
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
            finished.signal()
        }
        #expect(finished.wait(timeout: .now() + 10) == .success)
        #expect(outcome.withLock { $0 } == "worker 2 could not load the policy: policy.lua:3: out of luck")
        var byte: UInt8 = 0
        #expect(recv(kernelEnd, &byte, 1, Int32(MSG_DONTWAIT)) < 1, "INIT was answered")
    }
}
