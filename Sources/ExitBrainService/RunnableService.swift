import ExitBrainCoordination
import Logging
import ServiceLifecycle

/// A service's configuration: the shared settings plus its own, read from the environment
/// (flags already laid over it) and validated at start.
public protocol ServiceConfiguration: Sendable {
    /// The service's own HTTP port when `HTTP_PORT` is unset.
    static var defaultPort: Int { get }
    /// Shared settings.
    var common: CommonConfiguration { get }
    /// Reads and validates the service's own settings, beside the shared ones already read.
    init(common: CommonConfiguration, environment env: EnvironmentReader) throws(ConfigurationError)
}

extension ServiceConfiguration {
    /// Reads and validates every setting; a bad value is a ``ConfigurationError`` naming it.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let env = EnvironmentReader(environment)
        try self.init(common: try CommonConfiguration(environment: env, defaultPort: Self.defaultPort), environment: env)
    }
}

/// A service the command runner can start: made from its configuration, run in a service
/// group beside its HTTP endpoints.
public protocol RunnableService: Service, HealthSource {
    /// Its configuration.
    associatedtype Configuration: ServiceConfiguration
    /// Who it is: name, peer, log label.
    static var identity: ServiceRuntime.Identity { get }
    /// Its runtime.
    var runtime: ServiceRuntime { get }
    /// Wires the service; nothing connects until it runs.
    init(config: Configuration, version: String, logger: Logger)
}

extension RunnableService {
    /// The plan store, for `/plans`.
    public var planStore: PlanStore { runtime.plans }
    /// The book, for `/orders`.
    public var orderBook: RedisBook { runtime.book }
}
