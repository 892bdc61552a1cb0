import NIOCore

/// Turns received bytes into whole replies. A reply still incomplete after `maximumReplyBytes` bytes is a
/// protocol violation, so the receive buffer stays bounded whatever the server sends.
final class RESPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = RESPValue
    let parser: RESPParser

    init(limits: RESPLimits) { parser = RESPParser(limits: limits) }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try parser.parse(&buffer) else {
            if buffer.readableBytes > parser.limits.maximumReplyBytes {
                throw RESPError.protocolViolation("a reply runs past \(parser.limits.maximumReplyBytes) bytes")
            }
            return .needMoreData
        }
        context.fireChannelRead(wrapInboundOut(value))
        return .continue
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Commands written together with the promises of their replies, in order.
struct RESPRequest: Sendable {
    var payload: ByteBuffer
    var replies: [EventLoopPromise<RESPValue>]
}

/// Matches replies to the commands that asked for them (Redis answers in order), and fails every waiting
/// command when the connection breaks, so no caller waits forever.
final class RESPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RESPRequest
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        waiting.append(contentsOf: request.replies)
        context.write(wrapOutboundOut(request.payload), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let promise = waiting.popFirst() else {
            failAll(RESPError.protocolViolation("a reply (\(value.summary)) arrived that no command asked for"))
            context.close(promise: nil)
            return
        }
        promise.succeed(value)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(error as? RESPError ?? RESPError.connectionClosed("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RESPError.connectionClosed("the server closed the connection"))
        context.fireChannelInactive()
    }

    private func failAll(_ error: Error) {
        while let promise = waiting.popFirst() { promise.fail(error) }
    }
}
