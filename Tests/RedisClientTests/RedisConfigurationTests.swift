import RedisClient
import Testing

@Suite("Redis URL parsing")
struct RedisConfigurationTests {
    @Test func defaults() throws {
        let c = try RedisConfiguration(url: "redis://127.0.0.1:6379/0")
        #expect(c.host == "127.0.0.1")
        #expect(c.port == 6379)
        #expect(c.database == 0)
        #expect(c.password == nil && c.username == nil)
    }

    @Test func userPasswordAndDatabase() throws {
        let c = try RedisConfiguration(url: "redis://exec:s3cr%40t@redis.local:6380/3")
        #expect(c.username == "exec")
        #expect(c.password == "s3cr@t")
        #expect(c.host == "redis.local")
        #expect(c.port == 6380)
        #expect(c.database == 3)
        #expect(c.description == "redis://exec:****@redis.local:6380/3")
        #expect(!c.description.contains("s3cr"))
    }

    @Test func passwordOnly() throws {
        let a = try RedisConfiguration(url: "redis://:pw@h:1/0")
        #expect(a.username == nil && a.password == "pw")
        let b = try RedisConfiguration(url: "redis://pw@h")
        #expect(b.password == "pw" && b.port == 6379)
        #expect(b.description == "redis://:****@h:6379/0")
    }

    @Test(arguments: ["http://h:1", "redis://h:0", "redis://h:70000", "redis://h:x", "redis://h:1/abc", "redis://", "redis://:pw@:1/0"])
    func rejected(url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        do {
            _ = try RedisConfiguration(url: url)
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.message.contains("pw"), "the password must not appear: \(error.message)")
        }
    }

    @Test func maskHidesCredentials() {
        #expect(RedisConfiguration.mask("redis://u:secret@h:1/0") == "redis://****@h:1/0")
        #expect(RedisConfiguration.mask("redis://h:1/0") == "redis://h:1/0")
    }
}
