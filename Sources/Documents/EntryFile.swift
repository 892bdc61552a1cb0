import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading one entry file without trusting it: the file's size is compared with `EntryLimits` and with
/// the size its header implies before the payload is read, so a huge or sparse file costs a few reads.
enum EntryFile {
    /// The entry in the file at `url`, or nil when there is no such file.
    /// - Throws: `DocumentsError.invalidEntry` with the reason the file cannot be served.
    static func read(_ url: URL, limits: EntryLimits, model: ModelGeometry?) throws -> ChunkEntry? {
        // O_NONBLOCK: a FIFO planted under an entry's name must not block the open.
        let descriptor = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw DocumentsError.invalidEntry(reason: "cannot be opened: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw DocumentsError.invalidEntry(reason: "cannot be examined: \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw DocumentsError.invalidEntry(reason: "not a regular file") }
        guard let size = Int(exactly: status.st_size), size <= limits.maximumEntryBytes else {
            throw DocumentsError.invalidEntry(reason: "the file has \(status.st_size) bytes, above the maximum entry size \(limits.maximumEntryBytes)")
        }
        let prelude = try bytes(handle, EntryCodec.preludeBytes)
        let headerLength = try EntryCodec.headerLength(prelude: prelude, fileBytes: size, limits: limits)
        let header = try bytes(handle, headerLength)
        let (_, payloadBytes) = try EntryCodec.header(header, version: EntryCodec.version(prelude), limits: limits, model: model)
        guard let expected = EntryCodec.fileBytes(headerLength: headerLength, payloadBytes: payloadBytes), expected == size else {
            throw DocumentsError.invalidEntry(reason: "size mismatch: the file has \(size) bytes, its header implies "
                                              + "\(EntryCodec.fileBytes(headerLength: headerLength, payloadBytes: payloadBytes).map(String.init) ?? "more than Int.max")")
        }
        // expected == size and both parts were subtracted from it, so the rest is not negative.
        var data = prelude + header
        data.append(try bytes(handle, size - EntryCodec.preludeBytes - headerLength))
        return try EntryCodec.decode(data, limits: limits, model: model)
    }

    /// The next `count` bytes of `handle` (fewer when the file shrank, which `decode` then rejects).
    private static func bytes(_ handle: FileHandle, _ count: Int) throws -> Data {
        guard count > 0 else { return Data() }
        do {
            return try handle.read(upToCount: count) ?? Data()
        } catch {
            throw DocumentsError.invalidEntry(reason: "cannot be read: \(systemReason(error))")
        }
    }
}

/// The POSIX reason inside a Foundation error (`No space left on device`), or its description.
func systemReason(_ error: Error) -> String {
    if let documents = error as? DocumentsError { return documents.description }
    let nsError = error as NSError
    let posix = (nsError.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0 : nil }
        ?? (nsError.domain == NSPOSIXErrorDomain ? nsError : nil)
    if let posix, let code = Int32(exactly: posix.code) { return String(cString: strerror(code)) }
    return "\(error)"
}
