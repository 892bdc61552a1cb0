import Foundation
import Testing
@testable import LoadGenerator

/// Bad values of `bench serve` are refused before any request, naming the flag.
@Suite struct LoadArgumentsTests {
    @Test func concurrencies() throws {
        #expect(try LoadArguments.concurrencies("1, 4,8,16") == [1, 4, 8, 16])
        for bad in ["0", "1,,2", "x", "2000", "-1", ""] {
            #expect(throws: LoadArgumentError.self) { try LoadArguments.concurrencies(bad) }
        }
        #expect(throws: LoadArgumentError("--concurrency", "4 is listed twice")) { try LoadArguments.concurrencies("4,1,4") }
        #expect(throws: LoadArgumentError("--concurrency", "'0' is not an integer in [1, 1024]")) { try LoadArguments.concurrencies("0") }
    }

    @Test func targetsAndPids() throws {
        let targets = try LoadArguments.targets(urls: ["llama=http://127.0.0.1:8081", "http://127.0.0.1:8080/"],
                                                pids: ["llama=42", "127.0.0.1:8080=7"])
        #expect(targets == [LoadTarget(name: "llama", url: "http://127.0.0.1:8081", serverPID: 42),
                            LoadTarget(name: "127.0.0.1:8080", url: "http://127.0.0.1:8080/", serverPID: 7)])
        let one = try LoadArguments.targets(urls: ["http://localhost:9000"], pids: ["123"])
        #expect(one.first?.server_pid == 123 && one.first?.name == "localhost:9000")
        let cases: [([String], [String], String)] = [
            (["ftp://host"], [], "--url"), (["http://"], [], "--url"), (["http://h:1/v1"], [], "--url"),
            (["a=http://h:1", "a=http://h:2"], [], "--url"), (["=http://h:1"], [], "--url"),
            (["http://h:1"], ["x"], "--server-pid"), (["http://h:1"], ["-4"], "--server-pid"),
            (["a=http://h:1", "b=http://h:2"], ["5"], "--server-pid"), (["a=http://h:1"], ["b=5"], "--server-pid"),
            (["a=http://h:1"], ["a=5", "a=6"], "--server-pid"),
        ]
        for (urls, pids, flag) in cases {
            #expect(performing: { try LoadArguments.targets(urls: urls, pids: pids) },
                    throws: { ($0 as? LoadArgumentError)?.flag == flag })
        }
    }

    @Test func lengthsAndCounts() throws {
        try LoadArguments.check(promptTokens: 64, maxTokens: 32, rounds: 3, repeats: 1, vocabularySize: 4096)
        let cases: [(Int, Int, Int, Int, Int, String)] = [
            (0, 32, 3, 1, 4096, "--prompt-tokens"), (64, 1, 3, 1, 4096, "--max-tokens"), (64, 32, 0, 1, 4096, "--rounds"),
            (64, 32, 3, 0, 4096, "--repeats"), (64, 32, 3, 1, 16, "--vocab-size"),
        ]
        for (prompt, tokens, rounds, repeats, vocabulary, flag) in cases {
            #expect(performing: {
                try LoadArguments.check(promptTokens: prompt, maxTokens: tokens, rounds: rounds, repeats: repeats, vocabularySize: vocabulary)
            }, throws: { ($0 as? LoadArgumentError)?.flag == flag })
        }
    }
}
