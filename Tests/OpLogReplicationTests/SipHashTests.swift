import Testing

@testable import OpLogReplication

/// SipHash-2-4 against the reference implementation's vectors (`vectors_sip64` of the paper's
/// `test.c`): key `00 01 … 0f`, message `00 01 … n−1`.
@Suite("SipHash-2-4")
struct SipHashTests {
    static let vectors: [UInt64] = [
        0x726f_db47_dd0e_0e31, 0x74f8_39c5_93dc_67fd, 0x0d6c_8009_d9a9_4f5a, 0x8567_6696_d7fb_7e2d,
        0xcf27_94e0_2771_87b7, 0x1876_5564_cd99_a68d, 0xcbc9_466e_58fe_e3ce, 0xab02_00f5_8b01_d137,
        0x93f5_f579_9a93_2462, 0x9e00_82df_0ba9_e4b0, 0x7a5d_bbc5_94dd_b9f3, 0xf4b3_2f46_226b_ada7,
        0x751e_8fbc_860e_e5fb, 0x14ea_5627_c084_3d90, 0xf723_ca90_8e7a_f2ee, 0xa129_ca61_49be_45e5,
        0x3f2a_cc7f_57c2_9bdb, 0x699a_e9f5_2cbe_4794, 0x4bc1_b3f0_968d_d39c, 0xbb6d_c91d_a779_61bd,
        0xbed6_5cf2_1aa2_ee98, 0xd0f2_cbb0_2e3b_67c7, 0x9353_6795_e3a3_3e88, 0xa80c_038c_cd5c_cec8,
        0xb8ad_50c6_f649_af94, 0xbce1_92de_8a85_b8ea, 0x17d8_35b8_5bbb_15f3, 0x2f2e_6163_076b_cfad,
        0xde4d_aaac_a71d_c9a5, 0xa6a2_5066_8795_6571, 0xad87_a353_5c49_ef28, 0x32d8_92fa_d841_c342,
        0x7127_512f_72f2_7cce,
    ]
    static let k0: UInt64 = 0x0706_0504_0302_0100
    static let k1: UInt64 = 0x0f0e_0d0c_0b0a_0908

    @Test func matchesTheReferenceVectors() {
        for (length, expected) in Self.vectors.enumerated() {
            let message = (0..<length).map { UInt8($0) }
            #expect(SipHash.hash(message, k0: Self.k0, k1: Self.k1) == expected, "length \(length)")
        }
    }

    @Test func theTwoWordFormIsTheSixteenByteMessage() {
        // Bytes 00…07 and 08…0f, read little-endian.
        #expect(SipHash.hash(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908, k0: Self.k0, k1: Self.k1) == Self.vectors[16])
    }

    @Test func anotherKeyGivesAnotherHash() {
        #expect(SipHash.hash([], k0: Self.k0 ^ 1, k1: Self.k1) != Self.vectors[0])
        #expect(SipHash.hash([], k0: Self.k0, k1: Self.k1 ^ (1 << 63)) != Self.vectors[0])
    }
}
