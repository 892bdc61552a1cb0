import Foundation

/// Something the library did that its caller should be able to tell a person: an entry discarded (and
/// why), a store that did not reach the disk, a stale temporary file removed. Lookups and stores never
/// fail for these; they are recorded, and the caller prints them (`DocumentLibrary.takeEvents()`).
public struct LibraryEvent: Sendable, Equatable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// A stored entry was unreadable, corrupt, oversized or not for this model: removed and reported as a miss.
        case discarded
        /// An entry could not be written to disk; the memory tier still serves it.
        case storeFailed
        /// A temporary file left by an interrupted writer was removed when the library opened.
        case removedTemporary
        /// The remote tier's server stopped answering; the library goes on with its local tiers.
        case remoteUnavailable
        /// The remote tier's server answers again.
        case remoteRestored
    }

    public let kind: Kind
    /// The file concerned (for the remote tier: the key, or the server's URL without its password).
    public let path: String
    /// Why, naming the field or the system error.
    public let reason: String
    public let time: Date

    public init(kind: Kind, path: String, reason: String, time: Date = Date()) {
        self.kind = kind
        self.path = path
        self.reason = reason
        self.time = time
    }

    public var description: String {
        switch kind {
        case .discarded: return "discarded \(path): \(reason)"
        case .storeFailed: return "could not store \(path): \(reason) (kept in memory only)"
        case .removedTemporary: return "removed \(path): \(reason)"
        case .remoteUnavailable: return "remote tier \(path) unavailable: \(reason) (going on with local tiers)"
        case .remoteRestored: return "remote tier \(path) answers again"
        }
    }
}

/// The most recent events, bounded so a directory full of bad files cannot grow memory without end.
struct EventLog: Sendable {
    /// Events kept at most; older ones are dropped (and counted).
    static let capacity = 256
    private(set) var events: [LibraryEvent] = []
    /// Events dropped because the log was full.
    private(set) var dropped = 0

    mutating func record(_ event: LibraryEvent) {
        if events.count == Self.capacity {
            events.removeFirst()
            dropped += 1
        }
        events.append(event)
    }

    /// The events recorded since the last call, oldest first.
    mutating func take() -> [LibraryEvent] {
        defer { events = [] }
        return events
    }
}
