/// A dictionary whose values each live in a box of their own, for tables of many large values
/// (order records, plans): a bucket holds the key and a reference, so a value costs its size
/// once, not once more in every empty bucket of the table (a table is up to half empty), and
/// growing the table moves a reference a value, not the value.
///
/// A value type like `Dictionary`: a box is changed in place only while this table alone holds
/// it; a copy of the table keeps the values it had.
public struct BoxedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// One value. Written only while uniquely referenced, so a box another table shares never
    /// changes under it.
    @usableFromInline final class Box: @unchecked Sendable {
        @usableFromInline var value: Value
        @inlinable init(_ value: Value) { self.value = value }
    }

    @usableFromInline var table: [Key: Box] = [:]

    @inlinable public init() {}

    @inlinable public var count: Int { table.count }
    @inlinable public var isEmpty: Bool { table.isEmpty }
    @inlinable public var keys: some Collection<Key> { table.keys }

    /// The table as a plain dictionary.
    @inlinable public var dictionary: [Key: Value] { table.mapValues(\.value) }

    @inlinable public subscript(key: Key) -> Value? {
        get { table[key]?.value }
        set {
            guard let newValue else {
                table.removeValue(forKey: key)
                return
            }
            if let index = table.index(forKey: key), isKnownUniquelyReferenced(&table.values[index]) {
                table.values[index].value = newValue
            } else {
                table[key] = Box(newValue)
            }
        }
    }

    /// Sets the value of `key`, returning the one it replaced.
    @inlinable @discardableResult
    public mutating func updateValue(_ value: Value, forKey key: Key) -> Value? {
        let before = self[key]
        self[key] = value
        return before
    }

    /// Removes the value of `key`, returning it.
    @inlinable @discardableResult
    public mutating func removeValue(forKey key: Key) -> Value? {
        table.removeValue(forKey: key)?.value
    }
}

extension BoxedDictionary: Sequence {
    @inlinable public func makeIterator() -> some IteratorProtocol<(key: Key, value: Value)> {
        table.lazy.map { ($0.key, $0.value.value) }.makeIterator()
    }
}
