import OpLog
public import OpLogReplication

/// Messages of a real exchange between two engines: what the seed corpora are made of.
public enum RealMessages {
    /// Every message two replicas sent each other while reconciling a session they partly share
    /// (120 entries in common, 8 and 5 of their own) and trading checkpoints, in order.
    public static func exchange() -> [ReplicationMessage] {
        let shared = Fixtures.chain(actor: "studio", firstLamport: 1, count: 120)
        var left = MemoryReplica(name: NodeID("alice"))
        var right = MemoryReplica(name: NodeID("bob"))
        _ = left.write(
            shared + Fixtures.chain(actor: "studio", firstLamport: 121, count: 8, after: shared.last),
            session: Fixtures.session
        )
        _ = right.write(
            shared + Fixtures.chain(actor: "laptop", firstLamport: 90, count: 5, after: shared[88]),
            session: Fixtures.session
        )
        _ = left.handle(
            .localCheckpoint(session: Fixtures.session, Fixtures.checkpoint(snapshot: "s-100", lamport: 100))
        )
        var conversation = Conversation(left, right)
        conversation.isRecording = true
        conversation.connect(key: ReconciliationKey(k0: 7, k1: 11))
        conversation.run()
        return conversation.delivered.map(\.message)
    }
}
