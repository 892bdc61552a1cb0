#if canImport(Glibc)
import Glibc
#endif

/// What identifies one version of a file without reading it: device, inode, size and modification time
/// (nanoseconds). Replacing or rewriting the file changes at least one of them.
public struct FileIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedSeconds: Int64
    public let modifiedNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }

    init(_ status: stat) {
        self.init(device: UInt64(truncatingIfNeeded: status.st_dev), inode: UInt64(truncatingIfNeeded: status.st_ino),
                  size: Int64(truncatingIfNeeded: status.st_size), modifiedSeconds: Int64(truncatingIfNeeded: status.st_mtim.tv_sec),
                  modifiedNanoseconds: Int64(truncatingIfNeeded: status.st_mtim.tv_nsec))
    }

    /// `device:inode:size:seconds.nanoseconds`, the digest cache's key.
    public var description: String { "\(device):\(inode):\(size):\(modifiedSeconds).\(modifiedNanoseconds)" }
}
