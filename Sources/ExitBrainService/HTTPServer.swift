import ExitBrainCoordination
import Foundation
import Hummingbird
import Logging

/// What the HTTP endpoints need from a service.
public protocol HealthSource: Sendable {
    /// The latest health report.
    func healthReport() async -> HealthReport
    /// The plan store, for `/plans`.
    var planStore: PlanStore { get }
    /// The book, for `/orders`.
    var orderBook: RedisBook { get }
}

/// The HTTP side of a service (docs/contract.md §8): `/health`, `/health/live`, `/metrics`, `/plans`,
/// `/plans/{symbol}`, `/orders`, `/orders/{symbol}`. Read-only.
public enum HTTPEndpoints {
    /// Builds the application, bound to `host:port`.
    public static func application(source: some HealthSource, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            let report = await source.healthReport()
            return json(report.json, status: HTTPResponse.Status(code: report.httpStatus))
        }
        router.get("/health/live") { _, _ -> Response in
            json(#"{"status":"OK"}"#)
        }
        router.get("/metrics") { _, _ -> Response in
            _ = await source.healthReport()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsSetup.render())))
        }
        // `/plans` and `/orders`: everything, or one symbol's.
        let listings: [(path: String, read: @Sendable (String?) async -> Response)] = [
            ("/plans", { await plans(source.planStore, symbol: $0) }), ("/orders", { await orders(source.orderBook, symbol: $0) }),
        ]
        for listing in listings {
            router.get(RouterPath(listing.path)) { _, _ -> Response in await listing.read(nil) }
            router.get(RouterPath(listing.path + "/:symbol")) { _, context -> Response in
                guard let symbol = symbol(context.parameters.get("symbol")) else {
                    return json(#"{"error":"symbol must be 1-32 letters and digits"}"#, status: .badRequest)
                }
                return await listing.read(symbol)
            }
        }
        // Every endpoint is read-only: other methods on them get 405 with `Allow: GET`
        // (not the router's 404, which would say the path does not exist).
        for path in ["/health", "/health/live", "/metrics", "/plans", "/plans/:symbol", "/orders", "/orders/:symbol"] {
            for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    Response(
                        status: .methodNotAllowed, headers: [.contentType: "application/json", .allow: "GET"],
                        body: .init(byteBuffer: ByteBuffer(string: #"{"error":"read-only endpoint: use GET"}"#)))
                }
            }
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "exitbrain"), logger: logger)
    }

    /// A path's symbol, upper-cased, when it is 1-32 letters and digits.
    private static func symbol(_ text: String?) -> String? {
        let symbol = text?.uppercased() ?? ""
        guard !symbol.isEmpty, symbol.count <= 32, symbol.allSatisfy({ $0.isLetter || $0.isNumber }) else { return nil }
        return symbol
    }

    private static func plans(_ store: PlanStore, symbol: String?) async -> Response {
        do {
            let raw = try await store.allRaw()
                .filter { symbol == nil || $0.field.hasPrefix(symbol! + ":") }
                .sorted { $0.field < $1.field }
            return array(raw.map(\.bytes))
        } catch {
            return json(#"{"error":"redis unavailable"}"#, status: .serviceUnavailable)
        }
    }

    /// A JSON array of ready JSON values.
    private static func array(_ items: [[UInt8]]) -> Response {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, item) in items.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += item
        }
        body.append(UInt8(ascii: "]"))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The order records of `{ns}:orders` (docs/contract.md §11), oldest first, as a JSON array.
    private static func orders(_ book: RedisBook, symbol: String?) async -> Response {
        do {
            let rows = try await book.orderRecords()
            var records: [(Date, [UInt8])] = []
            for row in rows {
                guard let record = try? OrderWrite.decode(row.bytes, field: row.field) else { continue }
                if let symbol, record.key.symbol != symbol { continue }
                records.append((record.createdAt, row.bytes))
            }
            records.sort { $0.0 < $1.0 }
            return array(records.map(\.1))
        } catch {
            return json(#"{"error":"redis unavailable"}"#, status: .serviceUnavailable)
        }
    }

    private static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
