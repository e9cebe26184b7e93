/// Formats commands in the Redis protocol (RESP arrays of bulk strings) into one buffer,
/// so a pipeline is handed to hiredis in a single append.
struct RESPWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func append(_ command: RedisCommand) {
        let args = command.arguments
        bytes.append(UInt8(ascii: "*"))
        appendDecimal(args.count)
        bytes.append(13)
        bytes.append(10)
        for a in args {
            bytes.append(UInt8(ascii: "$"))
            appendDecimal(a.count)
            bytes.append(13)
            bytes.append(10)
            bytes.append(contentsOf: a)
            bytes.append(13)
            bytes.append(10)
        }
    }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    private mutating func appendDecimal(_ value: Int) {
        if value < 10 {
            bytes.append(UInt8(48 + value))
            return
        }
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while n > 0 {
                d[count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }
}
