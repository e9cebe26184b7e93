import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Support
import Testing

/// The mirror of a service that keeps its own plans (the execution service's): a periodic full
/// read hands over only the plans whose bytes changed; one asked for hands over every plan.
@Suite("Book mirror without records")
struct BookMirrorTests {
    @Test func aPeriodicFullReadDecodesOnlyWhatChanged() async throws {
        let book = InMemoryBook()
        let plans = try (0..<5).map { try CoordinationFixture.plan(symbol: "S\($0)USDT") }
        for plan in plans { try book.seed(plan) }
        let mirror = BookMirror(book: book, hashes: [.plans], retainsRecords: false, fullReadEvery: .zero)

        let first = try await mirror.refresh()
        #expect(first.full && first.readPlans.count == 5, "the first read decodes every plan")
        #expect(mirror.plans.isEmpty, "it keeps no plan")

        let steady = try await mirror.refresh()
        #expect(steady.full && steady.readPlans.isEmpty, "nothing changed: nothing decoded (\(steady.readPlans.count))")
        #expect(steady.planFields.count == 5, "every field is still seen")

        var moved = plans[2]
        moved.version += 1
        try book.seed(moved)
        let afterChange = try await mirror.refresh()
        #expect(afterChange.readPlans.map(\.value.version) == [moved.version], "only the changed plan")
        #expect(afterChange.readPlans.keys.first == moved.key)

        mirror.requireFullRead()
        let asked = try await mirror.refresh()
        #expect(asked.readPlans.count == 5, "a full read asked for decodes every plan")
        #expect(try await mirror.refresh().readPlans.isEmpty)
    }
}
