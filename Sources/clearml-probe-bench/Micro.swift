import ArgumentParser
import Foundation
import NativeClients
import ProbeCore
import Probes

struct MicroBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "micro", abstract: "Pieces of a check step, timed alone.")

    func run() async throws {
        let body = Data(
            #"{"meta":{"result_code":200,"result_subcode":0,"result_msg":"OK"},"data":{"msg":"ClearML server"}}"#.utf8)
        let response = HTTPResponse(
            status: 200, headers: [(name: "content-type", value: "application/json")], body: body)
        func time(_ name: String, _ body: () -> Void) {
            var samples: [Double] = []
            for _ in 0..<2000 {
                let start = ContinuousClock.now
                body()
                samples.append(start.duration(to: .now).milliseconds * 1000)
            }
            print("\(name): median \(format(median(samples))) µs")
        }
        time("JSONValue.parse") { _ = JSONValue.parse(body) }
        time("ClearMLEnvelope") { _ = ClearMLEnvelope(body: body) }
        time("excerpt") { _ = HTTPWords.excerpt(response) }
        time("ResultBuilder+result") {
            _ = ResultBuilder(id: .apiserverPing).result(status: .ok, summary: "x", timings: HTTPTimings(total: 1))
        }
        time("Durations.format") { _ = Durations.format(seconds: 0.0003) }
        time("Date()") { _ = Date() }
    }
}
