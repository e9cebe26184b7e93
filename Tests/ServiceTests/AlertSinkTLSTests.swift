import ExitBrainCoordination
import ExitBrainService
import Foundation
import Logging
import MonitoringService
import Support
import Testing

/// Alerts over https to receivers whose certificates a private CA signed (`ALERT_CA_FILE`),
/// and to a fake Telegram Bot API. No Redis: the alerts' bus is a book kept in memory.
@Suite("Alert sinks over https")
struct AlertSinkTLSTests {
    static let alert = AlertEvent(severity: .critical, code: "POSITION_UNPROTECTED", message: "no resting stop for 2 intervals", key: "BTCUSDT:LONG")

    /// Raises one alert and runs delivery until `done` holds (at most 10 s).
    func deliver(_ settings: AlertSettings, until done: @Sendable (AlertSink) -> Bool) async throws -> AlertSink {
        let sink = AlertSink(bus: InMemoryBook(source: "monitoring-service"), settings: settings, logger: Logger(label: "test.alerts"))
        let delivery = Task { await sink.runDelivery() }
        #expect(await sink.raise(Self.alert))
        let clock = ContinuousClock()
        let start = clock.now
        while !done(sink), clock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(20)) }
        delivery.cancel()
        await delivery.value
        return sink
    }

    @Test func aWebhookOverHttpsIsTrustedThroughTheCAFile() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let receiver = try await RecordingHTTPServer.start(statuses: [200], certificates: certificates)
        let env = EnvironmentReader([
            "ALERT_WEBHOOK_URL": "https://127.0.0.1:\(receiver.port)/hooks/secret-path", "ALERT_CA_FILE": certificates.caFile,
        ])
        let settings = try AlertSettings(environment: env)
        let sink = try await deliver(settings) { $0.delivered == 1 }
        let got = try #require(receiver.received.first)
        #expect(got.path == "/hooks/secret-path")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(got.body.utf8)) as? [String: String])
        #expect(json == ["text": "[CRITICAL] POSITION_UNPROTECTED BTCUSDT:LONG: no resting stop for 2 intervals"])
        #expect(sink.delivered == 1)
        #expect(sink.targets == ["webhook https://127.0.0.1:\(receiver.port)/…"], "the webhook's path is not printed")
        await receiver.close()
    }

    @Test func withoutTheCAFileTheSameReceiverIsNotTrusted() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let receiver = try await RecordingHTTPServer.start(statuses: [200], certificates: certificates)
        let settings = AlertSettings(webhook: URL(string: "https://127.0.0.1:\(receiver.port)/hook"))
        let clock = ContinuousClock()
        let start = clock.now
        let sink = try await deliver(settings) { _ in clock.now - start > .milliseconds(1500) }
        #expect(receiver.received.isEmpty, "an unknown CA's certificate is refused before any request")
        #expect(sink.delivered == 0)
        await receiver.close()
    }

    @Test func telegramGetsSendMessageWithChatAndTextAndTheTokenIsNeverShown() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let api = try await RecordingHTTPServer.start(
            statuses: [502, 200], certificates: certificates,
            reply: #"{"ok":true,"result":{"message_id":1}}"#)
        let token = "123456:AAE-secret_Token"
        let env = EnvironmentReader([
            "ALERT_TELEGRAM_BOT_TOKEN": token, "ALERT_TELEGRAM_CHAT_ID": "-1001234567890",
            "ALERT_TELEGRAM_API_URL": "https://localhost:\(api.port)", "ALERT_CA_FILE": certificates.caFile,
        ])
        let settings = try AlertSettings(environment: env)
        let sink = try await deliver(settings) { $0.delivered == 1 }
        let got = api.received
        #expect(got.map(\.status) == [502, 200], "a failed send is retried")
        #expect(got.allSatisfy { $0.path == "/bot\(token)/sendMessage" })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(got[1].body.utf8)) as? [String: Any])
        #expect(json["chat_id"] as? Int64 == -1_001_234_567_890)
        #expect(json["text"] as? String == "[CRITICAL] POSITION_UNPROTECTED BTCUSDT:LONG: no resting stop for 2 intervals")
        #expect(json.count == 2)
        #expect(sink.targets == ["telegram https://localhost:\(api.port)/bot****/sendMessage"])
        #expect(!"\(settings)".contains(token), "the token is not in the settings' description")
        await api.close()
    }

    @Test func aBodyTheSinkRefusesForGoodIsDroppedAndTheNextOneGoes() async throws {
        let receiver = try await RecordingHTTPServer.start(statuses: [400, 200])
        let settings = AlertSettings(webhook: URL(string: "http://127.0.0.1:\(receiver.port)/hook"))
        let sink = AlertSink(bus: InMemoryBook(source: "monitoring-service"), settings: settings, logger: Logger(label: "test.alerts"))
        let delivery = Task { await sink.runDelivery() }
        #expect(await sink.raise(Self.alert))
        #expect(await sink.raise(AlertEvent(severity: .info, code: "PEER_BACK", message: "back", key: "execution-service")))
        let clock = ContinuousClock()
        let start = clock.now
        while sink.delivered < 1, clock.now - start < .seconds(10) { try await Task.sleep(for: .milliseconds(20)) }
        delivery.cancel()
        await delivery.value
        #expect(receiver.received.map(\.status) == [400, 200], "the refused body is not retried")
        #expect(receiver.received.last?.body.contains("PEER_BACK") == true)
        await receiver.close()
    }

    @Test func badAlertSettingsNameTheVariableAndNeverTheToken() {
        let cases: [([String: String], String)] = [
            (["ALERT_WEBHOOK_URL": "ftp://example.com/x"], "ALERT_WEBHOOK_URL"),
            (["ALERT_WEBHOOK_URL": "https://"], "ALERT_WEBHOOK_URL"),
            (["ALERT_CA_FILE": "/nonexistent/ca.pem"], "ALERT_CA_FILE"),
            (["ALERT_TELEGRAM_BOT_TOKEN": "123:abc"], "ALERT_TELEGRAM_CHAT_ID"),
            (["ALERT_TELEGRAM_CHAT_ID": "42"], "ALERT_TELEGRAM_BOT_TOKEN"),
            (["ALERT_TELEGRAM_BOT_TOKEN": "123:a b/c", "ALERT_TELEGRAM_CHAT_ID": "42"], "ALERT_TELEGRAM_BOT_TOKEN"),
            (["ALERT_TELEGRAM_BOT_TOKEN": "123:abc", "ALERT_TELEGRAM_CHAT_ID": "my chat"], "ALERT_TELEGRAM_CHAT_ID"),
            (
                ["ALERT_TELEGRAM_BOT_TOKEN": "123:abc", "ALERT_TELEGRAM_CHAT_ID": "42", "ALERT_TELEGRAM_API_URL": "api.telegram.org"],
                "ALERT_TELEGRAM_API_URL"
            ),
        ]
        for (env, variable) in cases {
            do {
                _ = try AlertSettings(environment: EnvironmentReader(env))
                Issue.record("\(env) accepted")
            } catch {
                #expect(error.variable == variable, "\(env)")
                #expect(!error.description.contains("a b/c"), "the token is masked: \(error)")
            }
        }
    }
}
