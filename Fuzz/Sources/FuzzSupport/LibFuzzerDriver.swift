import CLibFuzzer

/// Runs libFuzzer on `testOneInput` with the process's arguments: what a fuzz target's
/// `<Module>_main` (the name SwiftPM gives an executable's entry point) returns.
public func runLibFuzzer(
    argc: CInt,
    argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
