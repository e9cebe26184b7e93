extension Array where Element == [UInt8] {
    /// Calls `body` with C argv and length arrays pointing into one flat copy of the arguments.
    func withArgv<R>(_ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int>?) -> R) -> R {
        var total = 0
        for a in self { total += a.count }
        var flat = [UInt8]()
        flat.reserveCapacity(total + 1)
        var lengths = [Int]()
        lengths.reserveCapacity(count)
        for a in self {
            flat.append(contentsOf: a)
            lengths.append(a.count)
        }
        flat.append(0)  // never empty, so the base address exists
        return flat.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var argv = [UnsafePointer<CChar>?]()
            argv.reserveCapacity(lengths.count)
            var offset = 0
            for len in lengths {
                argv.append(base + offset)
                offset += len
            }
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lenBuffer in
                    body(Int32(lengths.count), argvBuffer.baseAddress, lenBuffer.baseAddress)
                }
            }
        }
    }
}
