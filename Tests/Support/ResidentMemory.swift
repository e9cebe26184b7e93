import Foundation

/// A process's resident memory, from Linux's /proc.
public enum ResidentMemory {
    /// `VmRSS` of the process `pid` ("self": this one) in MB; -1 when it cannot be read.
    public static func megabytes(of pid: String = "self") -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = line.split(separator: " ").compactMap({ Double($0) }).first
        else { return -1 }
        return kb / 1024
    }
}
