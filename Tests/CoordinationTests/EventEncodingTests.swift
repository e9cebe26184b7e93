import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Testing

@Suite struct EventEncodingTests {
    @Test(arguments: [
        PlanUpdatedEvent(key: "BTCUSDT:LONG", planId: "6f1c2a9e-4b7d-4e8a-9c3f-0d2b5e7a1c4f", version: 2, change: "SL_MOVED", changes: ["SL_MOVED"]),
        PlanUpdatedEvent(key: "ETHUSDT:SHORT", planId: "p", version: 17, change: "TP_FILLED", changes: ["TP_FILLED", "SL_MOVED", "TRAIL_ARMED"]),
        PlanUpdatedEvent(key: "X\"Y\\Z:LONG", planId: "tab\there", version: 1, change: "", changes: []),
    ])
    func planUpdatedBytesEqualTheCodableEncoding(_ event: PlanUpdatedEvent) throws {
        #expect(event.jsonBytes() == (try PlanJSON.codableEncode(event)))
        let back = try JSONDecoder().decode(PlanUpdatedEvent.self, from: Data(event.jsonBytes()))
        #expect(back == event)
    }
}
