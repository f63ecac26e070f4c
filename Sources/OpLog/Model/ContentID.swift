import Crypto

/// Content-addressed op ids: `"sha256:" + hex(SHA-256(JCS(entry without op_id)))`.
///
/// The hash covers every field except `op_id`, unknown fields included, in RFC 8785 canonical
/// form, so the id does not depend on key order, whitespace or number spelling in the line.
public enum ContentID {
    /// The content id of `object`, ignoring any `op_id` member it has.
    public static func compute(for object: JSONObject) -> OpID {
        let canonical = CanonicalJSON.encode(.object(object.removing("op_id")))
        let digest = SHA256.hash(data: canonical)
        var text = OpID.contentPrefix
        text.reserveCapacity(OpID.contentPrefix.utf8.count + 64)
        let hexDigits = Array("0123456789abcdef")
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0F)])
        }
        guard let id = try? OpID(validating: text) else {
            preconditionFailure("a sha256 content id is always a valid op id")
        }
        return id
    }
}
