import ArgumentParser
import Foundation
import ProbeCore
import TestSupport

/// `soak`: a real `clearml-probe serve` with every check configured (the stack of the end-to-end suite: the ClearML
/// double behind a real nginx, real redis-server, the MongoDB and Elasticsearch doubles, a webhook receiver) through
/// many random outages and heals in a row. Per outage: the messages received, those naming another service, the time
/// from the fault to the FIRING and from the heal to the RESOLVED. Targets: 2 messages per outage, 0 naming another
/// service, the FIRING within 2 intervals + 5 s of the fault. Exits 1 when a target is missed.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract:
            "Random outages and heals against a real serve process; messages per outage vs one FIRING + one RESOLVED.")

    @Option(help: "How many outages, one after the other.")
    var outages = 50

    @Option(help: "CLEARML_PROBE_INTERVAL of the serve process (a duration: 2s, 1500ms).")
    var interval = "2s"

    @Option(help: "CLEARML_PROBE_GRACE of the serve process.")
    var grace = "6s"

    @Option(help: "Seed of the random order (the same seed gives the same outages).")
    var seed: UInt64?

    @Option(
        help:
            "Comma-separated outage kinds to draw from (default: all of \(StackUnderTest.Outage.allCases.map(\.rawValue).joined(separator: ",")))."
    )
    var kinds: String?

    @Option(
        help: "The clearml-probe binary (default: the one next to this benchmark, else .build/debug/clearml-probe).")
    var binary: String?

    func run() async throws {
        let intervalSeconds: Double
        let graceSeconds: Double
        do {
            intervalSeconds = try Durations.seconds(interval)
            graceSeconds = try Durations.seconds(grace)
        } catch {
            throw ValidationError("--interval/--grace: \(error.description)")
        }
        guard outages >= 1 else { throw ValidationError("--outages must be at least 1") }
        var pool = StackUnderTest.Outage.allCases
        if let kinds {
            pool = try kinds.split(separator: ",").map { name in
                guard let kind = StackUnderTest.Outage(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError(
                        "--kinds: unknown outage '\(name)'; known: \(StackUnderTest.Outage.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return kind
            }
        }
        let path = binary ?? Self.defaultBinary()
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ValidationError("no clearml-probe binary at \(path): build it first (swift build) or pass --binary")
        }
        let seed = self.seed ?? UInt64.random(in: 1...UInt64(UInt32.max))
        var random = SplitMix64(seed: seed)

        let settings = StackUnderTest.Settings(binary: path, interval: intervalSeconds, grace: graceSeconds)
        let firingTarget = 2 * intervalSeconds + 5
        say(
            "soak: \(outages) outages from [\(pool.map(\.rawValue).joined(separator: ","))], seed \(seed), interval \(interval), grace \(grace), binary \(path)"
        )
        let stack = try StackUnderTest(settings)
        let startup = try await stack.prepare()
        say("healthy stack after the grace: \(startup.count) message(s)" + startup.map { "\n    \($0)" }.joined())

        var records: [OutageRecord] = []
        for number in 1...outages {
            let outage = pool[Int(random.next() % UInt64(pool.count))]
            let record = try await stack.run(outage)
            records.append(record)
            let firing = record.secondsToFiring.map { String(format: "%5.1f s", $0) } ?? "  never"
            let resolved = record.secondsToResolved.map { String(format: "%5.1f s", $0) } ?? "  never"
            let late = (record.secondsToFiring ?? .infinity) > firingTarget ? " (late)" : ""
            say(
                "#\(pad("\(number)", 3)) \(pad(outage.rawValue, 14)) messages \(pad("\(record.messages.count)", 2, left: true))"
                    + "  other service \(pad("\(record.wrongService.count)", 2, left: true))  fault→FIRING \(firing)\(late)"
                    + "  heal→RESOLVED \(resolved)  \(record.asWanted ? "ok" : "NOT as wanted")")
            if !record.asWanted {
                for line in record.report.split(separator: "\n").dropFirst() { say("    \(line)") }
                // What serve saw change around it, to tell a service's blip from the probe's change of mind.
                let changes = await stack.serveLog(60_000).split(separator: "\n").filter {
                    $0.contains("check OK") || $0.contains("check not OK")
                }
                say("    serve's last status changes:")
                for line in changes.suffix(24) { say("      \(line)") }
                say("    serve's alerting state: \(await stack.alertingStateText())")
            }
        }
        await stack.stop()

        let messages = records.reduce(0) { $0 + $1.messages.count }
        let beforeFaults = records.reduce(startup.count) { $0 + $1.beforeFault.count }
        let wrong = records.reduce(0) { $0 + $1.wrongService.count }
        let wrongPages = records.reduce(0) { total, record in
            total + record.firings.filter { $0.service != record.outage.rootCause }.count
        }
        let firingTimes = records.compactMap(\.secondsToFiring)
        let resolvedTimes = records.compactMap(\.secondsToResolved)
        let onTime = firingTimes.filter { $0 <= firingTarget }.count
        let asWanted = records.filter(\.asWanted).count
        func stats(_ values: [Double]) -> String {
            values.isEmpty
                ? "none"
                : String(
                    format: "median %.1f s, p90 %.1f s, max %.1f s", median(values), percentile(values, 0.9),
                    values.max() ?? .nan)
        }
        say("")
        say("totals over \(records.count) outages (targets in brackets)")
        say(
            "  as wanted (one FIRING naming the service, its RESOLVED, nothing else)  \(asWanted)/\(records.count)  [\(records.count)/\(records.count)]"
        )
        say(
            String(
                format: "  messages                      %d, %.2f per outage  [%d, 2.00]", messages,
                Double(messages) / Double(records.count), 2 * records.count))
        say("  messages naming another service  \(wrong), of them FIRING \(wrongPages)  [0]")
        say("  messages while healthy           \(beforeFaults)  [0]")
        say(
            "  FIRING within \(Durations.format(seconds: firingTarget)) of the fault  \(onTime)/\(records.count)  [\(records.count)/\(records.count)]; fault→FIRING \(stats(firingTimes))"
        )
        say(
            "  RESOLVED of that incident        \(resolvedTimes.count)/\(records.count)  [\(records.count)/\(records.count)]; heal→RESOLVED \(stats(resolvedTimes))"
        )
        for kind in pool {
            let mine = records.filter { $0.outage == kind }
            guard !mine.isEmpty else { continue }
            let count = mine.reduce(0) { $0 + $1.messages.count }
            say(
                "    \(pad(kind.rawValue, 14)) \(mine.count) outage(s), \(mine.filter(\.asWanted).count) as wanted, "
                    + String(format: "%.2f", Double(count) / Double(mine.count)) + " messages per outage, "
                    + "\(mine.reduce(0) { $0 + $1.wrongService.count }) naming another service")
        }
        let met = asWanted == records.count && wrong == 0 && beforeFaults == 0 && onTime == records.count
        say("targets \(met ? "met" : "NOT met")")
        if !met { throw ExitCode(1) }
    }

    static func defaultBinary() -> String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
            .appendingPathComponent("clearml-probe").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return Repository.path(".build/debug/clearml-probe")
    }
}

/// One line to stdout at once (unbuffered: a soak piped into a file shows each outage as it ends).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

/// `text` padded with spaces to `width` (on the left for numbers).
func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? fill + text : text + fill
}

/// A small seeded generator, so a soak can be repeated outage for outage.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
