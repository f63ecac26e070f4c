import Crypto

/// Content-addressed op ids: `"sha256:" + hex(SHA-256(JCS(entry without op_id)))`.
///
/// The hash covers every field except `op_id`, unknown fields included, in RFC 8785 canonical
/// form, so the id does not depend on key order, whitespace or number spelling in the line.
public enum ContentID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The content id of `object`, ignoring any `op_id` member it has.
    ///
    /// - Throws: `OpLogError` `.invalidEntry` when the object holds `NaN` or `Infinity` (which
    ///   Python writes, but canonical JSON cannot encode).
    public static func compute(for object: JSONObject) throws(OpLogError) -> OpID {
        try Self.compute(canonicalBytes: CanonicalJSON.encode(.object(object.removing("op_id"))))
    }

    /// The content id of an entry whose canonical form (without `op_id`) is `canonicalBytes`.
    static func compute(canonicalBytes: [UInt8]) -> OpID {
        let digest = SHA256.hash(data: canonicalBytes)
        var text = Array(OpID.contentPrefix.utf8)
        text.reserveCapacity(text.count + 64)
        for byte in digest {
            text.append(Self.hexDigits[Int(byte >> 4)])
            text.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return OpID(trusted: String(decoding: text, as: UTF8.self))
    }
}
