import ExitBrainDomain
import Testing

/// The engine's and the paper venue's tables of large values: a dictionary's behaviour, a
/// value type's copies.
@Suite struct BoxedDictionaryTests {
    struct Large: Equatable, Sendable {
        var name: String
        var numbers: (Double, Double, Double, Double) = (0, 0, 0, 0)
        static func == (a: Large, b: Large) -> Bool { a.name == b.name && a.numbers == b.numbers }
    }

    @Test func itReadsWritesAndRemovesLikeADictionary() {
        var table = BoxedDictionary<String, Large>()
        #expect(table.isEmpty)
        table["a"] = Large(name: "a")
        table["b"] = Large(name: "b")
        #expect(table.updateValue(Large(name: "a2"), forKey: "a") == Large(name: "a"))
        table["b"]?.numbers.0 = 7
        #expect(table["b"]?.numbers.0 == 7, "a change through optional chaining stays")
        #expect(table.count == 2)
        #expect(Set(table.keys) == ["a", "b"])
        #expect(Set(table.map(\.value.name)) == ["a2", "b"])
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.key, $0.value.name) }) == ["a": "a2", "b": "b"])
        #expect(table.removeValue(forKey: "a") == Large(name: "a2"))
        #expect(table.removeValue(forKey: "a") == nil)
        table["b"] = nil
        #expect(table.isEmpty && table["b"] == nil)
    }

    @Test func aCopyKeepsTheValuesItHad() {
        var table = BoxedDictionary<Int, Large>()
        for n in 0..<100 { table[n] = Large(name: "\(n)") }
        let copy = table
        table[5]?.name = "changed"
        table[6] = Large(name: "replaced")
        table[7] = nil
        #expect(copy[5]?.name == "5" && copy[6]?.name == "6" && copy[7]?.name == "7", "the copy saw none of it")
        #expect(table[5]?.name == "changed" && table[6]?.name == "replaced" && table[7] == nil)
        var second = copy
        second[5]?.numbers.1 = 1
        #expect(copy[5]?.numbers.1 == 0 && second[5]?.numbers.1 == 1 && table[5]?.numbers.1 == 0)
        #expect(copy.dictionary.count == 100 && table.dictionary.count == 99)
    }
}
