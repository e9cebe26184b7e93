import ExitBrainService
import Foundation
import NIOSSL

/// Where alerts go besides the bus (docs/contract.md §2): a webhook, Telegram, or both, with extra
/// trusted roots for private CAs, and how long a condition stays quiet once sent.
public struct AlertSettings: Sendable {
    /// `ALERT_WEBHOOK_URL`: receives `{"text": …}` POSTs (http:// or https://).
    public var webhook: URL?
    /// `ALERT_CA_FILE`: PEM roots trusted by every sink, beside the system's.
    public var caFile: String?
    /// `ALERT_TELEGRAM_BOT_TOKEN` + `ALERT_TELEGRAM_CHAT_ID` (+ `ALERT_TELEGRAM_API_URL`).
    public var telegram: TelegramTarget?
    /// `ALERT_DEDUPE_S` (default 300): a condition is not sent again within it.
    public var dedupe: Duration

    /// Settings with no sink but the bus.
    public init(webhook: URL? = nil, caFile: String? = nil, telegram: TelegramTarget? = nil, dedupe: Duration = .seconds(300)) {
        self.webhook = webhook
        self.caFile = caFile
        self.telegram = telegram
        self.dedupe = dedupe
    }

    /// The sinks to deliver to, in a fixed order.
    public var targets: [AlertTarget] {
        (webhook.map { [AlertTarget.webhook($0)] } ?? []) + (telegram.map { [AlertTarget.telegram($0)] } ?? [])
    }

    /// Reads and validates the alert variables.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        webhook = try Self.url(env, "ALERT_WEBHOOK_URL")
        if let path = env.optional("ALERT_CA_FILE") {
            let roots = try? NIOSSLCertificate.fromPEMFile(path)
            guard let roots, !roots.isEmpty else {
                throw ConfigurationError(variable: "ALERT_CA_FILE", value: path, allowed: "a readable PEM file of one or more CA certificates")
            }
            caFile = path
        }
        let token = env.optional("ALERT_TELEGRAM_BOT_TOKEN")
        let chat = env.optional("ALERT_TELEGRAM_CHAT_ID")
        switch (token, chat) {
        case (nil, nil):
            telegram = nil
        case (let token?, let chat?):
            guard token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == ":" || $0 == "_" || $0 == "-") }) else {
                throw ConfigurationError(
                    variable: "ALERT_TELEGRAM_BOT_TOKEN", value: "****", allowed: "a bot token (digits, a colon, letters, digits, _ and -)")
            }
            guard TelegramTarget.isChatId(chat) else {
                throw ConfigurationError(
                    variable: "ALERT_TELEGRAM_CHAT_ID", value: chat, allowed: "a numeric chat id (e.g. -1001234567890) or @channelname")
            }
            let api = try Self.url(env, "ALERT_TELEGRAM_API_URL") ?? TelegramTarget.defaultAPI
            telegram = TelegramTarget(token: token, chatId: chat, api: api)
        case (nil, _?):
            throw ConfigurationError(variable: "ALERT_TELEGRAM_BOT_TOKEN", value: "", allowed: "a bot token whenever ALERT_TELEGRAM_CHAT_ID is set")
        case (_?, nil):
            throw ConfigurationError(variable: "ALERT_TELEGRAM_CHAT_ID", value: "", allowed: "a chat id whenever ALERT_TELEGRAM_BOT_TOKEN is set")
        }
        let d = try env.double("ALERT_DEDUPE_S", default: 300, range: 0...86400)
        dedupe = .milliseconds(Int(d * 1000))
    }

    private static func url(_ env: EnvironmentReader, _ name: String) throws(ConfigurationError) -> URL? {
        guard let raw = env.optional(name) else { return nil }
        guard let url = URL(string: raw), url.scheme == "http" || url.scheme == "https", url.host?.isEmpty == false else {
            throw ConfigurationError(variable: name, value: raw, allowed: "an http:// or https://host[:port]/path URL")
        }
        return url
    }
}

/// The Telegram Bot API's `sendMessage` for one chat. The token is a secret: it is shown as
/// `****` wherever the target is printed.
public struct TelegramTarget: Sendable, CustomStringConvertible {
    /// `https://api.telegram.org`.
    public static let defaultAPI = URL(string: "https://api.telegram.org")!
    /// The bot token.
    let token: String
    /// The chat: a number, or `@channelname`.
    public let chatId: String
    /// The Bot API base.
    public let api: URL

    /// A target.
    public init(token: String, chatId: String, api: URL = TelegramTarget.defaultAPI) {
        self.token = token
        self.chatId = chatId
        self.api = api
    }

    /// `{api}/bot{token}/sendMessage`.
    var sendMessageURL: URL { api.appendingPathComponent("bot\(token)").appendingPathComponent("sendMessage") }

    /// `{api}/bot****/sendMessage`.
    public var description: String { api.appendingPathComponent("bot****").appendingPathComponent("sendMessage").absoluteString }

    /// A numeric chat id or `@channelname`.
    static func isChatId(_ text: String) -> Bool {
        if text.hasPrefix("@") { return text.count > 1 && text.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } }
        return Int64(text) != nil
    }
}
