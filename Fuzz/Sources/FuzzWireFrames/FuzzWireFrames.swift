import FuzzSupport
import NIOCore
import OpLogWire

// The input is a byte stream as a peer would send it (after a first byte that sets how it is
// cut into reads and a second that sets the frame limit). Properties:
// - `WireFrameDecoder` splits it exactly as a plain reference reading of the layout does
//   (length, then payload), whether the bytes come in one read or in many small ones, and fails
//   with `.frameTooLarge` exactly where the reference finds a length over the limit, or with
//   `.truncatedFrame` at the end exactly when bytes of an incomplete frame are left;
// - every payload either decodes to a message or throws a `WireError` of a documented code;
// - a message that decodes re-encodes to the same bytes (the decoder promises a canonical
//   encoding), `encodedLength` counts them, and decoding them again gives the same message;
// - encoding under a limit smaller than the message throws `.frameTooLarge` and writes nothing.

// SwiftPM links an executable's entry point as `<Module>_main`.
@_cdecl("FuzzWireFrames_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc: argc, argv: argv, testOneInput: fuzzTestOneInput)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    SeedWriter.writeIfAsked(Seeds.all)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data: data, size: size)
    let readSize = Int(input.byte())
    let limitChoice = input.byte()
    let maximumFrameSize = limitChoice < 128 ? WireConfiguration.defaultMaximumFrameSize : Int(limitChoice) * 8
    let stream = input.rest()

    let expected = Framing.reference(stream, maximumFrameSize: maximumFrameSize)
    let whole = Framing.decode(stream, readSize: 0, maximumFrameSize: maximumFrameSize)
    let dripped = Framing.decode(stream, readSize: readSize, maximumFrameSize: maximumFrameSize)
    require(whole == expected, "one read: \(whole.summary), the layout says \(expected.summary)")
    require(dripped == expected, "reads of \(readSize): \(dripped.summary), the layout says \(expected.summary)")

    for payload in whole.payloads {
        MessageProperties.check(payload)
    }
    return 0
}

/// What the decoder made of a stream: the payloads, then how it ended.
struct Framing: Equatable {
    enum End: Equatable {
        case clean
        case failed(WireError.Code)
    }

    var payloads: [[UInt8]] = []
    var end = End.clean

    var summary: String { "\(self.payloads.count) payloads (\(self.payloads.map(\.count))), then \(self.end)" }

    /// The layout read plainly: a 4-byte big-endian length, then that many bytes.
    static func reference(_ stream: [UInt8], maximumFrameSize: Int) -> Framing {
        var framing = Framing()
        var position = 0
        while position < stream.count {
            guard stream.count - position >= 4 else {
                framing.end = .failed(.truncatedFrame)
                return framing
            }
            let length = stream[position..<position + 4].reduce(0) { ($0 << 8) | Int($1) }
            guard length <= maximumFrameSize else {
                framing.end = .failed(.frameTooLarge)
                return framing
            }
            guard stream.count - position - 4 >= length else {
                framing.end = .failed(.truncatedFrame)
                return framing
            }
            framing.payloads.append(Array(stream[position + 4..<position + 4 + length]))
            position += 4 + length
        }
        return framing
    }

    /// The stream through `WireFrameDecoder`, in reads of `readSize` bytes (0: one read), as
    /// `ByteToMessageHandler` drives it: `decode` after each read until it needs more, then
    /// `decodeLast` at the end.
    static func decode(_ stream: [UInt8], readSize: Int, maximumFrameSize: Int) -> Framing {
        var decoder = WireFrameDecoder(maximumFrameSize: maximumFrameSize)
        var framing = Framing()
        var buffer = ByteBuffer()
        let step = readSize == 0 ? max(1, stream.count) : readSize
        do {
            var start = 0
            while start < stream.count {
                buffer.writeBytes(stream[start..<min(stream.count, start + step)])
                start += step
                while let payload = try decoder.decode(buffer: &buffer) {
                    framing.payloads.append(Array(payload.readableBytesView))
                }
                buffer.discardReadBytes()
            }
            while let payload = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
                framing.payloads.append(Array(payload.readableBytesView))
            }
        } catch let error as WireError {
            framing.end = .failed(error.code)
        } catch {
            failProperty("the frame decoder threw something other than a WireError: \(error)")
        }
        return framing
    }
}
