import Logging

extension Namespace {
    /// Adds the passthrough files found in `staging` at the mount paths their staged files
    /// record. A staged copy of a path the log already holds as a DAX file is what a commit
    /// leaves when it stops between logging and removing the copy: the DAX file is complete,
    /// so the copy is removed. Returns what could not be placed.
    mutating func addStagedFiles(from staging: StagingArea, now: UInt64, logger: Logger) -> [String] {
        var problems: [String] = []
        for (relative, mountPath) in staging.scan() {
            guard let mountPath, !mountPath.isEmpty else {
                problems.append("staged file \(relative) names no mount path (user.famfs.path); left alone")
                continue
            }
            var components = mountPath.split(separator: "/").map(String.init)
            guard !components.contains(where: { $0 == "." || $0 == ".." }), let name = components.popLast() else {
                problems.append("staged file \(relative) names \"\(mountPath)\" (user.famfs.path), which is not a file path in the mount; left alone")
                continue
            }
            do throws(NamespaceError) {
                let parent = try directory(atRelativePath: components.joined(separator: "/"), now: now)
                if let existing = child(of: parent, named: name) {
                    if existing.fmap != nil {
                        try? staging.remove(relative)
                        logger.notice("removed \(relative): /\(mountPath) was committed to DAX before the last stop")
                    } else {
                        problems.append("staged file \(relative) backs /\(mountPath), which is already taken; left alone")
                    }
                    continue
                }
                let info = try? staging.status(relative)
                try add(name: name, parent: parent, kind: .file(.passthrough(backing: relative)),
                        mode: 0o100000 | (UInt32(info?.st_mode ?? 0o644) & 0o7777),
                        uid: info?.st_uid ?? 0, gid: info?.st_gid ?? 0, now: now)
            } catch {
                problems.append("staged file \(relative) cannot be placed at /\(mountPath): \(error)")
            }
        }
        return problems
    }
}
