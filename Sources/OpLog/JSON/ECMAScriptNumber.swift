/// Formats doubles as ECMAScript's `Number.prototype.toString()` does (ECMA-262, Number::toString),
/// which RFC 8785 §3.2.2.3 adopts for canonical JSON numbers.
enum ECMAScriptNumber {
    /// The ECMAScript string form of a finite `value`; `-0` gives `"0"`.
    ///
    /// The digits are the shortest that round-trip, which is what Swift's own `description`
    /// produces; only the layout (where the point goes, when to use an exponent) differs.
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity") }
        if value == 0 { return "0" }
        let (digits, exponent) = Self.shortestDigits(of: value.magnitude)
        let sign = value < 0 ? "-" : ""
        // value = 0.d1d2…dk × 10^n, in ECMA-262's terms.
        let k = digits.count
        let n = exponent
        var text = ""
        if k <= n && n <= 21 {
            text = digits + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            let split = digits.index(digits.startIndex, offsetBy: n)
            text = digits[..<split] + "." + digits[split...]
        } else if -6 < n && n <= 0 {
            text = "0." + String(repeating: "0", count: -n) + digits
        } else {
            let e = n - 1
            let exponentText = (e < 0 ? "-" : "+") + String(e.magnitude)
            if k == 1 {
                text = digits + "e" + exponentText
            } else {
                text = String(digits.prefix(1)) + "." + digits.dropFirst() + "e" + exponentText
            }
        }
        return sign + text
    }

    /// The shortest round-trip decimal digits of a positive finite `value` (no leading or
    /// trailing zeros) and the exponent `n` with `value = 0.digits × 10^n`.
    static func shortestDigits(of value: Double) -> (digits: String, exponent: Int) {
        // Swift prints the shortest round-trip digits, as "123.45", "1e-07" or "1.2345e+20".
        let description = value.description
        var mantissa = Substring(description)
        var exponent = 0
        if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = description[..<e]
            exponent = Int(description[description.index(after: e)...]) ?? 0
        }
        var integerPart = mantissa
        var fractionPart = Substring("")
        if let point = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<point]
            fractionPart = mantissa[mantissa.index(after: point)...]
        }
        var digits = String(integerPart) + fractionPart
        var pointPosition = integerPart.count + exponent
        let leadingZeros = digits.prefix { $0 == "0" }.count
        digits.removeFirst(leadingZeros)
        pointPosition -= leadingZeros
        while digits.last == "0" { digits.removeLast() }
        return (digits, pointPosition)
    }
}
