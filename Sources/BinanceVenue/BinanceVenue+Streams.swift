import BinanceProtocol
import ExitBrainCoordination
import ExitBrainDomain
import Foundation
import Logging
import NIOSSL
import Venue
import WSClient

/// The two streams: the user data stream (listenKey created, extended every 30 min, renewed on
/// `-1125`, `listenKeyExpired` and at 24 h; every (re)connect is a gap, so the engine reads the
/// REST truth before it trusts the stream) and the combined mark-price stream of the symbols
/// the book holds.
extension BinanceVenue {
    func startStreams() {
        guard !streamsStarted else { return }
        streamsStarted = true
        streamTasks.append(Task { await self.runUserStream() })
        streamTasks.append(Task { await self.runMarketStream() })
    }

    var tls: TLSConfiguration? {
        settings.wsURL.hasPrefix("wss://") ? TLSConfiguration.makeClientConfiguration() : nil
    }

    // MARK: - user data

    func runUserStream() async {
        var wait = Duration.milliseconds(500)
        while !Task.isCancelled {
            userStreamState = userStreamState == "NOT_STARTED" ? "CONNECTING" : "RECONNECTING"
            do {
                try await prepare()
                let key = try await listenKey()
                let started = clock.now
                try await connectUser(key: key)
                if clock.now - started > .seconds(60) { wait = .milliseconds(500) }
            } catch {
                logger.warning("user data stream down; reconnecting", metadata: ["error": "\(error)", "retry_in_s": "\(wait.secondsValue)"])
            }
            userStreamState = "RECONNECTING"
            emit(.gap(reason: "user data stream disconnected"))
            try? await Task.sleep(for: wait)
            wait = min(wait * 2, .seconds(30))
        }
    }

    func listenKey() async throws(VenueError) -> String {
        let body = try await rest.call(.POST, "/fapi/v1/listenKey", security: .key, priority: true)
        guard let answer = try? JSONDecoder().decode(ListenKeyAnswer.self, from: Data(body)) else {
            throw .unreachable(message: "listenKey: answer not readable")
        }
        return answer.listenKey
    }

    /// One connection's life: messages in, keepalive beside, ended by the lifetime, a dead key
    /// or the server.
    func connectUser(key: String) async throws {
        let url = settings.userStreamURL(listenKey: key)
        let logger = self.logger
        let keepalive = settings.keepaliveInterval
        let lifetime = settings.connectionLifetime
        try await WebSocketClient.connect(url: url, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
            await self.connected()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            guard case .text(let text) = message else { continue }
                            if await !self.received(Array(text.utf8)) { break }
                        }
                    } catch {}
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: keepalive)
                        if Task.isCancelled { return }
                        if await !self.extend(key) { return }
                    }
                }
                group.addTask { try? await Task.sleep(for: lifetime) }
                await group.next()
                group.cancelAll()
                try? await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    func connected() {
        userStreamState = "CONNECTED"
        lastEventAt = clock.now
        logger.info("user data stream connected")
        // Events may have been missed before this connection: the REST state is read again.
        emit(.gap(reason: "user data stream connected"))
    }

    /// Extends the key; false when it is dead (-1125) and a new one is needed.
    func extend(_ key: String) async -> Bool {
        var params = QueryString()
        params.append("listenKey", key)
        do {
            _ = try await rest.call(.PUT, "/fapi/v1/listenKey", params, security: .key, priority: true)
            return true
        } catch .refused(let code, _) where code == BinanceCode.invalidListenKey.rawValue {
            logger.warning("listenKey no longer exists (-1125); opening a new one")
            return false
        } catch {
            logger.warning("listenKey keepalive failed; will retry", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// One user stream message; false when the connection must end (the key expired).
    func received(_ bytes: [UInt8]) -> Bool {
        lastEventAt = clock.now
        let message: StreamMessage
        do { message = try StreamMessage.decode(bytes) } catch {
            logger.warning("user stream message not readable; ignored", metadata: ["error": "\(error)", "bytes": "\(bytes.count)"])
            return true
        }
        if case .listenKeyExpired = message {
            logger.warning("listenKey expired; reconnecting with a new one")
            return false
        }
        for event in translator.translate(message) {
            if case .position(let position) = event {
                // Only changes from what the stream last said: ACCOUNT_UPDATE may list every
                // side of a symbol.
                let previous = streamedPositions[position.key]
                if position.quantity <= 0 {
                    guard previous != nil || positionCache[position.key] != nil else { continue }
                    streamedPositions[position.key] = nil
                    positionCache[position.key] = nil
                } else {
                    if previous?.quantity == position.quantity, previous?.entryPrice == position.entryPrice { continue }
                    streamedPositions[position.key] = position
                    positionCache[position.key] = position
                    follow(position.key.symbol)
                }
            }
            emit(event)
        }
        return true
    }

    // MARK: - mark prices

    /// Follows a symbol's mark price from now on.
    func follow(_ symbol: String) {
        guard markSymbols.insert(symbol).inserted else { return }
        guard let requests = markRequests else { return }
        nextMarkRequest += 1
        requests.yield(#"{"method":"SUBSCRIBE","params":["\#(symbol.lowercased())@markPrice@1s"],"id":\#(nextMarkRequest)}"#)
    }

    func runMarketStream() async {
        var wait = Duration.milliseconds(500)
        while !Task.isCancelled {
            // A combined stream names at least one stream: connect once the book has a symbol.
            while markSymbols.isEmpty, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
            let (requests, continuation) = AsyncStream<String>.makeStream()
            markRequests = continuation
            let names = markSymbols.sorted().map { $0.lowercased() + "@markPrice@1s" }.joined(separator: "/")
            let url = settings.wsURL + "/market/stream?streams=" + names
            let started = clock.now
            do {
                try await WebSocketClient.connect(url: url, tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            do {
                                for try await message in inbound.messages(maxSize: 1 << 20) {
                                    guard case .text(let text) = message else { continue }
                                    await self.receivedMark(Array(text.utf8))
                                }
                            } catch {}
                        }
                        group.addTask {
                            for await request in requests {
                                do { try await outbound.write(.text(request)) } catch { return }
                            }
                        }
                        await group.next()
                        group.cancelAll()
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                }
            } catch {
                logger.warning("mark price stream down; reconnecting", metadata: ["error": "\(error)"])
            }
            continuation.finish()
            markRequests = nil
            if clock.now - started > .seconds(60) { wait = .milliseconds(500) }
            try? await Task.sleep(for: wait)
            wait = min(wait * 2, .seconds(30))
        }
    }

    func receivedMark(_ bytes: [UInt8]) {
        guard let message = try? StreamMessage.decode(bytes), case .markPrice(let mark) = message,
            let price = Decimal(plainText: mark.p), price > 0
        else { return }
        emit(.price(symbol: mark.s, price))
    }
}
