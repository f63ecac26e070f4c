import Testing

@testable import OpLogReplication

@Suite("Reconciliation keys")
struct ReconciliationKeyTests {
    let mine = (0..<16).map { UInt8($0) }
    let theirs = (0..<16).map { UInt8(255 - $0) }

    @Test func bothSidesOfALinkDeriveTheSameKey() {
        #expect(ReconciliationKey(nonce: self.mine, peerNonce: self.theirs) == ReconciliationKey(nonce: self.theirs, peerNonce: self.mine))
    }

    @Test func eitherNonceChangesTheKey() {
        let key = ReconciliationKey(nonce: self.mine, peerNonce: self.theirs)
        var other = self.mine
        other[15] ^= 1
        #expect(ReconciliationKey(nonce: other, peerNonce: self.theirs) != key)
        var otherTheirs = self.theirs
        otherTheirs[0] ^= 0x80
        #expect(ReconciliationKey(nonce: self.mine, peerNonce: otherTheirs) != key)
    }

    @Test func eachExchangeHashesWithAKeyOfItsOwn() {
        let key = ReconciliationKey.testing
        let first = key.exchangeKey(1)
        let second = key.exchangeKey(2)
        #expect(first != second && first != key)
        #expect(first.item(1, 2) != second.item(1, 2))
        #expect(first.item(1, 2) == key.exchangeKey(1).item(1, 2))
        // Both halves count: the op-id hash and the content hash.
        #expect(first.item(1, 2) != first.item(1, 3))
        #expect(first.item(1, 2) != first.item(0, 2))
    }
}
