import Foundation
import FuseWire
import Logging
import SystemPackage

/// Runs the FUSE message loop: negotiates INIT, then serves requests on several worker
/// threads, each with its own descriptor on the connection and its own policy instance.
public final class FuseServer: Sendable {
    let fileSystem: FileSystem
    let makePolicy: WorkerPolicyFactory
    let negotiation: InitNegotiation
    let codec: RequestCodec
    let workerCount: Int
    let logger: Logger

    public init(fileSystem: FileSystem, makePolicy: @escaping WorkerPolicyFactory, negotiation: InitNegotiation = .init(),
                codec: RequestCodec = .init(), workerCount: Int = 4, logger: Logger) {
        self.fileSystem = fileSystem
        self.makePolicy = makePolicy
        self.negotiation = negotiation
        self.codec = codec
        self.workerCount = max(1, workerCount)
        self.logger = logger
    }

    public struct ServeError: Error, CustomStringConvertible {
        public var description: String
    }

    /// One policy instance per worker, made before serving.
    public struct WorkerPolicies: @unchecked Sendable {
        // Each entry is handed to one worker thread, which is from then on its only user.
        fileprivate let instances: [any WorkerPolicy]
    }

    /// Makes every worker's policy; one that cannot load throws naming the worker and the cause.
    /// The daemon calls this before it mounts, so such a policy fails the start.
    public func makeWorkerPolicies() throws(ServeError) -> WorkerPolicies {
        var instances: [any WorkerPolicy] = []
        for number in 0..<workerCount {
            do {
                instances.append(try makePolicy())
            } catch {
                throw ServeError(description: "worker \(number) could not load the policy: \(error)")
            }
        }
        return WorkerPolicies(instances: instances)
    }

    /// Serves `channel` until the connection closes (unmount, or the peer hangs up), with
    /// `policies` (made for this one serve) or, without them, policies made first: either way
    /// a policy that cannot load fails the serve before INIT is answered.
    public func serve(_ channel: FuseChannel, policies: WorkerPolicies? = nil) throws {
        let policies = try policies ?? makeWorkerPolicies()
        guard try negotiate(on: channel) else { return }
        // The kernel sends famfs's messages with the opcodes of the generation it is.
        var negotiated = codec
        if let profile = fileSystem.famfsProfile { negotiated.famfsOpcodes = profile.famfsOpcodes }
        let codec = negotiated
        // Keep one worker free to serve while the others commit files on release.
        fileSystem.commitSlots.setLimit(workerCount - 1)
        var channels = [channel]
        for _ in 1..<workerCount { channels.append(try channel.makeWorkerChannel()) }
        let finished = DispatchGroup()
        for worker in channels.indices.dropFirst() {
            finished.enter()
            let workerChannel = channels[worker]
            let thread = Thread { [self] in
                runWorker(on: workerChannel, number: worker, codec: codec, layout: policies.instances[worker])
                finished.leave()
            }
            thread.name = "famfs-worker-\(worker)"
            thread.start()
        }
        runWorker(on: channel, number: 0, codec: codec, layout: policies.instances[0])
        finished.wait()
    }

    /// Answers INIT; false when the connection closed first.
    private func negotiate(on channel: FuseChannel) throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: negotiation.requestBufferSize)
        while true {
            let outcome = try buffer.withUnsafeMutableBytes { try channel.receive(into: $0) }
            guard case .request(let count) = outcome else { return false }
            let request: Request
            do {
                request = try codec.decode(buffer[..<count])
            } catch {
                logger.error("undecodable message before INIT: \(error)")
                continue
            }
            guard case .initialize(let offer) = request.operation else {
                logger.error("opcode \(request.header.opcode) before INIT; answering EIO")
                try channel.send(Reply.status(unique: request.unique, errno: Errno.ioError.rawValue))
                continue
            }
            var reply: InitReply
            do {
                reply = try negotiation.reply(to: offer)
            } catch {
                logger.error("INIT refused: \(error)")
                try channel.send(Reply.status(unique: request.unique, errno: Errno.protocolNotSupported.rawValue))
                throw ServeError(description: error.description)
            }
            if fileSystem.staging != nil, offer.capabilities.contains(.passthrough) {
                reply.capabilities.insert(.passthrough)
                reply.maxStackDepth = 1
                fileSystem.kernelPassthrough.withLock { $0 = true }
                logger.info("FUSE_PASSTHROUGH accepted: the kernel reads and writes passthrough files itself")
            }
            if let profile = famfsProfile(for: offer, on: channel) {
                reply.capabilities.insert(profile.capability)
                reply.capabilities.insert(.initExt)
            }
            try channel.send(Reply.success(unique: request.unique, reply))
            logger.info("FUSE \(reply.major).\(reply.minor) negotiated (kernel offered 7.\(offer.minor)), max_write \(reply.maxWrite)")
            return true
        }
    }

    /// Chooses the kernel profile, logs the choice and why, and returns it when the kernel
    /// will map files itself: only if this file system can give every file a valid fmap.
    private func famfsProfile(for offer: InitRequest, on channel: FuseChannel) -> KernelProfile? {
        let registrar = DaxdevRegistrar(channel: channel, devices: fileSystem.devices)
        let probeWorks = negotiation.kernelProfile == .auto && offer.capabilities.contains(.daxFmap)
            && offer.minor <= KernelProfile.lastFamfsMinor && registrar.registerAll() == .registered
        let (profile, reason) = KernelProfile.select(negotiation.kernelProfile, offer: offer, pushRegistrationWorks: probeWorks)
        logger.info("kernel profile \(profile): \(reason)")
        guard profile.name != .none else { return nil }
        guard offer.capabilities.contains(profile.capability) else {
            logger.warning("the kernel did not offer FUSE_DAX_FMAP; serving file data in user space")
            return nil
        }
        if let obstacle = fileSystem.famfsObstacle(profile) {
            logger.warning("declining FUSE_DAX_FMAP: \(obstacle); serving file data in user space")
            return nil
        }
        if profile.deviceRegistration == .push, !probeWorks {
            switch registrar.registerAll() {
            case .registered:
                break
            case .notAFuseDevice:
                logger.notice("the connection is not /dev/fuse (a test kernel?): no devices to push by ioctl")
            case .refused(let errno):
                logger.warning("declining FUSE_DAX_FMAP: the kernel refused the devices pushed to it (\(errno)), so no fmap could be mapped; serving file data in user space")
                return nil
            }
        }
        fileSystem.activateFamfs(profile)
        logger.info("FUSE_DAX_FMAP accepted: the kernel maps files itself (profile \(profile))")
        return profile
    }

    private func runWorker(on channel: FuseChannel, number: Int, codec: RequestCodec, layout: any WorkerPolicy) {
        var buffer = [UInt8](repeating: 0, count: negotiation.requestBufferSize)
        while true {
            let outcome: FuseChannel.ReceiveOutcome
            do {
                outcome = try buffer.withUnsafeMutableBytes { try channel.receive(into: $0) }
            } catch {
                logger.error("worker \(number): reading the FUSE connection failed: \(error)")
                return
            }
            guard case .request(let count) = outcome else { return }
            respond(to: buffer[..<count], on: channel, codec: codec, layout: layout)
        }
    }

    private func respond(to message: ArraySlice<UInt8>, on channel: FuseChannel, codec: RequestCodec, layout: any WorkerPolicy) {
        let response: Response
        do {
            let request = try codec.decode(message)
            response = fileSystem.handle(request, context: WorkerContext(policy: layout, channel: channel))
        } catch {
            guard message.count >= InHeader.wireSize, let header = try? InHeader.decode(message.prefix(InHeader.wireSize)) else {
                logger.error("dropped a message too short to answer (\(message.count) bytes): \(error)")
                return
            }
            logger.error("malformed request (opcode \(header.opcode), unique \(header.unique)): \(error)")
            response = .error(header.unique, .invalidArgument)
        }
        do {
            switch response {
            case .message(let bytes): try channel.send(bytes)
            case .data(let unique, let pieces):
                let length = pieces.reduce(0) { $0 + $1.count }
                try channel.send(header: Reply.header(unique: unique, bodyLength: length).encoded, pieces: pieces)
            case .none: break
            }
        } catch {
            logger.error("sending a reply failed: \(error)")
        }
    }
}

