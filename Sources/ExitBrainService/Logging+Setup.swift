import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging

/// Process-wide logging: text lines or one JSON object per line, on standard error.
public enum LoggingSetup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false

    /// Bootstraps swift-log once per process.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var h: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
    }
}

/// One JSON object per line: ts, level, label, message, then metadata.
public struct JSONLogHandler: LogHandler {
    /// The component label.
    public let label: String
    /// Metadata of this logger.
    public var metadata: Logger.Metadata = [:]
    /// Minimum level.
    public var logLevel: Logger.Level = .info
    private static let lock = NSLock()

    /// A handler for `label`.
    public init(label: String) { self.label = label }

    /// Metadata access.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Writes one line.
    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", Timestamp.format(Date())), ("level", event.level.rawValue), ("label", label), ("message", event.message.description),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { fields.append((k, "\(v)")) }
        let line = "{" + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}\n"
        Self.lock.lock()
        FileHandle.standardError.write(Data(line.utf8))
        Self.lock.unlock()
    }
}
