import BinanceProtocol
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// `exitbrain venue-sim`: the simulated exchange served on loopback with Binance's REST paths,
/// the user data stream (`/private/ws?listenKey=…`, `/private/ws/{listenKey}`, `/ws/{listenKey}`)
/// and the market stream (`/market/stream?streams=…`, `/stream?streams=…`), plus `/_sim/…`.
public enum VenueSimulatorServer {
    /// The application; `exchange.run()` must run beside it for the walk and mark pushes.
    public static func application(exchange: SimulatedExchange, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let (path, query) = split(request.uri.description)
                let simRequest = SimRequest(
                    method: method.rawValue, path: path, rawQuery: query, rawBody: String(buffer: body),
                    apiKey: request.headers[HTTPField.Name("X-MBX-APIKEY")!])
                let answer = await exchange.handle(simRequest)
                if let hold = answer.withheld {
                    // Carried out, never answered: the client's timeout decides what it saw.
                    try? await Task.sleep(for: hold)
                }
                var headers = HTTPFields()
                for (name, value) in answer.headers {
                    if let field = HTTPField.Name(name) { headers[field] = value }
                }
                return Response(
                    status: HTTPResponse.Status(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
            }
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade { request, _, _ in
                let (path, query) = split(request.path ?? "/")
                let params = QueryString(parsing: query)
                if path == "/market/stream" || path == "/stream" {
                    let streams = (params["streams"] ?? "").split(separator: "/").map(String.init)
                    return .upgrade([:]) { inbound, outbound, _ in
                        let (id, stream) = await exchange.subscribeMarket(streams: streams)
                        await serve(stream: stream, id: id, exchange: exchange, inbound: inbound, outbound: outbound, answering: true)
                    }
                }
                let key: String?
                if path == "/private/ws" || path == "/ws" {
                    key = params["listenKey"]
                } else if path.hasPrefix("/private/ws/") {
                    key = String(path.dropFirst("/private/ws/".count))
                } else if path.hasPrefix("/ws/") {
                    key = String(path.dropFirst("/ws/".count))
                } else {
                    return .dontUpgrade
                }
                guard let key, let (id, stream) = await exchange.subscribeUser(listenKey: key) else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    await serve(stream: stream, id: id, exchange: exchange, inbound: inbound, outbound: outbound, answering: false)
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "venue-sim"),
            logger: logger)
    }

    /// Writes a subscription's messages until it ends (the simulator closed it) or the client
    /// goes; market connections answer SUBSCRIBE requests.
    private static func serve(
        stream: AsyncStream<String>, id: Int, exchange: SimulatedExchange, inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter, answering: Bool
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await text in stream {
                    do { try await outbound.write(.text(text)) } catch { break }
                }
            }
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard answering, case .text(let text) = message else { continue }
                        let answer = await exchange.marketRequest(id: id, text: text)
                        try await outbound.write(.text(answer))
                    }
                } catch {}
            }
            await group.next()
            group.cancelAll()
        }
        await exchange.unsubscribe(id)
    }

    static func split(_ uri: String) -> (path: String, query: String) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
