/// Runs `work`, giving up after `limit`: its value, or nil when the limit came first (the work
/// is then cancelled). An error `work` throws before the limit is thrown.
public func withDeadline<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

/// ``withDeadline(_:_:)`` for work that cannot fail.
public func withDeadline<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async -> T) async -> T? {
    (try? await withDeadline(limit, { () async throws -> T in await work() })) ?? nil
}
