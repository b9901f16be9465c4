import ArgumentParser
import Foundation

/// Benchmarks, kept apart from the tests: speed targets are measured here, never asserted by timed tests.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearml-probe-bench",
        abstract: "Measure clearml-probe against reference tools on this machine.",
        subcommands: [
            HTTPBench.self, EndpointBench.self, EngineBench.self, MicroBench.self, RedisBench.self, SoakBench.self,
            FleetBench.self,
        ]
    )
}

/// Median of a sample (the mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 0 ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }
