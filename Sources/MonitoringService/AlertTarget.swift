import ExitBrainCoordination
import Foundation

/// One place alerts are POSTed to, and how an alert's text becomes its JSON body.
public struct AlertTarget: Sendable, CustomStringConvertible {
    /// `webhook` or `telegram` (metrics and logs).
    public let name: String
    /// Where to POST.
    let url: URL
    /// The URL as printed (secrets as `****`).
    public let description: String
    /// A secret to mask in any error text.
    let secret: String?
    private let makeBody: @Sendable (String) -> [UInt8]

    /// The JSON body for an alert's text.
    func body(_ text: String) -> [UInt8] { makeBody(text) }

    /// Masks the secret in a text (an error may quote the URL).
    func redact(_ text: String) -> String {
        guard let secret, !secret.isEmpty else { return text }
        return text.replacingOccurrences(of: secret, with: "****")
    }

    /// `ALERT_WEBHOOK_URL`: `{"text": …}`. Printed as scheme, host and port only: a webhook's
    /// path or query is often its secret.
    static func webhook(_ url: URL) -> AlertTarget {
        let shown = "\(url.scheme ?? "http")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")/…"
        return AlertTarget(name: "webhook", url: url, description: shown, secret: nil) { text in
            Array("{\"text\":\(JSONText.quoted(text))}".utf8)
        }
    }

    /// Telegram's `sendMessage`: `{"chat_id": …, "text": …}` (a numeric id as a number).
    static func telegram(_ target: TelegramTarget) -> AlertTarget {
        let chat = Int64(target.chatId).map(String.init) ?? JSONText.quoted(target.chatId)
        return AlertTarget(name: "telegram", url: target.sendMessageURL, description: target.description, secret: target.token) { text in
            Array("{\"chat_id\":\(chat),\"text\":\(JSONText.quoted(text))}".utf8)
        }
    }
}
