import Testing
@testable import RESP

/// `redis://` URLs: every part parsed, and a bad one named in the error without repeating the password.
@Suite struct RedisURLTests {
    func part(_ text: String) -> String? {
        do {
            _ = try RedisURL(text)
            return nil
        } catch let RESPError.invalidURL(_, part, _) {
            return part
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func partsAndDefaults() throws {
        let full = try RedisURL("redis://alice:s%40cret@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 3)
        #expect(full.user == "alice" && full.password == "s@cret")
        #expect(full.description == "redis://alice:***@cache.internal:6380/3")
        let bare = try RedisURL("redis://127.0.0.1")
        #expect(bare.port == 6379 && bare.database == 0 && bare.user == nil && bare.password == nil)
        let passwordOnly = try RedisURL("redis://:pw@[::1]:7000/")
        #expect(passwordOnly.host == "::1" && passwordOnly.port == 7000 && passwordOnly.user == nil && passwordOnly.password == "pw")
    }

    @Test func invalidPartsAreNamed() {
        #expect(part("127.0.0.1:6379") == "scheme")
        #expect(part("rediss://host") == "scheme")
        #expect(part("http://host") == "scheme")
        #expect(part("redis://") == "host")
        #expect(part("redis://ho st") == "host")
        #expect(part("redis://a:b:c") == "host")
        #expect(part("redis://[::1") == "host")
        #expect(part("redis://host:0") == "port")
        #expect(part("redis://host:65536") == "port")
        #expect(part("redis://host:+1") == "port")
        #expect(part("redis://host:/1") == "port")
        #expect(part("redis://host/x") == "database")
        #expect(part("redis://host/99999999999") == "database")
        #expect(part("redis://host/-1") == "database")
        #expect(part("redis://host/0?timeout=1") == "query")
        #expect(part("redis://user@host") == "credentials")
        #expect(part("redis://u:%zz@host") == "credentials")
        #expect(part("redis://u:@host") == "password")
    }

    @Test func errorsNeverShowThePassword() {
        do {
            _ = try RedisURL("redis://u:topsecret@host:notaport")
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("topsecret"))
            #expect("\(error)".contains("port"))
        }
    }
}
