import ArgumentParser
import Foundation
import NativeClients
import ProbeCore
import Probes
import Runtime
import TestSupport

/// `http`: one HTTP check step (an `ingress.routes`-style request through the probe's own code path: a curl handle,
/// the blocking executor, judging the answer) against a local nginx, side by side with `curl -w '%{time_total}'`.
struct HTTPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http", abstract: "HTTP check latency vs curl (medians).")

    @Option(help: "Requests per side (at least 300 for the published numbers).")
    var count = 300

    func run() async throws {
        let port = Ports.free()
        let nginx = try NginxServer(
            httpBlock: """
                server {
                    listen 127.0.0.1:\(port);
                    access_log off;
                    location = /debug.ping {
                        default_type application/json;
                        return 200 '{"meta":{"result_code":200,"result_subcode":0,"result_msg":"OK"},"data":{"msg":"ClearML server"}}';
                    }
                }
                """, waitPort: port)
        defer { nginx.stop() }
        let url = URL(string: "http://127.0.0.1:\(port)/debug.ping")!

        let settings = CheckSettings(timeout: 2, slowWarning: 1)
        let context = CheckContext(
            id: .apiserverPing, config: ProbeConfig(), settings: settings,
            deadline: .now + .seconds(3600), state: ProbeState())
        // Warm up both sides (page cache, nginx worker, dynamic linking of curl).
        for _ in 0..<20 {
            _ = await probeOnce(url, context)
            _ = try curlOnce(url)
        }
        var probe: [Double] = []
        var reported: [Double] = []
        var curl: [Double] = []
        // Each side back to back: interleaving them puts a process spawn (curl) right before every probe request.
        // The transport alone, interleaved with the whole step so that both see the same machine.
        var transports: [Double] = []
        for _ in 0..<count {
            let (wall, total) = await probeOnce(url, context)
            probe.append(wall)
            reported.append(total)
            let start = ContinuousClock.now
            _ = await context.http.perform(context.directRequest(url: url))
            transports.append(start.duration(to: .now).milliseconds)
        }
        for _ in 0..<count {
            curl.append(try curlOnce(url))
        }
        // Where a check step's time goes besides the transfer: the hop off the cooperative pool and back.
        var hops: [Double] = []
        for _ in 0..<count {
            let start = ContinuousClock.now
            await BlockingExecutor.run(label: "bench") {}
            hops.append(start.duration(to: .now).milliseconds)
        }
        let ratio = median(probe) / median(curl)
        print("HTTP check vs curl against nginx 127.0.0.1:\(port), \(count) requests each (ms)")
        print(
            "  probe: median \(format(median(probe)))  p90 \(format(percentile(probe, 0.9)))  (wall time of one check step)"
        )
        print(
            "  probe's reported latency (libcurl total_time): median \(format(median(reported)))  ratio to curl \(String(format: "%.3f", median(reported) / median(curl)))"
        )
        print("  curl:  median \(format(median(curl)))  p90 \(format(percentile(curl, 0.9)))  (curl -w %{time_total})")
        print(
            "  of which: executor hop (empty) median \(format(median(hops))); HTTPClient.perform alone median \(format(median(transports)))"
        )
        print("  ratio probe/curl: \(String(format: "%.3f", ratio))  (target <= 1.10)")
    }

    /// Wall time of one check step, as a check experiences it (handle setup, executor hop, judging included).
    func probeOnce(_ url: URL, _ context: CheckContext) async -> (wall: Double, reported: Double) {
        let start = ContinuousClock.now
        let expectation = HTTPExpectation(
            target: "", what: "debug.ping", request: context.directRequest(url: url), body: .clearmlPing)
        let result = await expectation.run(context, builder: ResultBuilder(id: .apiserverPing))
        precondition(result.status == .ok, result.summary)
        return (start.duration(to: .now).milliseconds, result.timings["total_ms"] ?? .nan)
    }

    func curlOnce(_ url: URL) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "-w", "%{time_total}", url.absoluteString]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (Double(String(decoding: data, as: UTF8.self)) ?? .nan) * 1000
    }
}
