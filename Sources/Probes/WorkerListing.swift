import Foundation
import ProbeCore

/// What a `workers.get_all` reply says per queue, read straight from its bytes: for each queue name, how many workers
/// that reported within the window listen to it and the youngest of their reports. No worker entry is kept (a fleet's
/// reply is several MB of user, company, task and project details the verdicts do not need), and no worker id.
struct WorkerListing: Equatable {
    struct Listeners: Equatable {
        var workers = 0
        var newestAge: Double = .infinity
    }

    /// Workers that reported within the window.
    var reporting = 0
    var queues: [String: Listeners] = [:]

    func listeners(_ queue: String) -> Listeners { queues[queue] ?? Listeners() }

    /// Reads the reply's `data` (`{"workers":[…]}`). A worker's report time is `last_activity_time`, else
    /// `last_report_time`; one without either counts as just reported. Workers older than `maxAge` are left out.
    static func read(_ scanner: inout JSONScanner, now: Date, maxAge: Double) throws -> WorkerListing {
        var listing = WorkerListing()
        var names: [String] = []
        try scanner.members { key, scanner in
            guard key == "workers" else { return }
            try scanner.elements { scanner in
                var activity: Date?
                var report: Date?
                names.removeAll(keepingCapacity: true)
                let isObject = try scanner.members { key, scanner in
                    if key == "last_activity_time" {
                        activity = ClearMLTime.parse(try scanner.value())
                    } else if key == "last_report_time" {
                        report = ClearMLTime.parse(try scanner.value())
                    } else if key == "queues" {
                        try scanner.elements { scanner in
                            try scanner.members { key, scanner in
                                if key == "name", let name = try scanner.value().string, !names.contains(name) {
                                    names.append(name)
                                }
                            }
                        }
                    }
                }
                guard isObject else { return }
                let age = (activity ?? report).map { max(0, now.timeIntervalSince($0)) } ?? 0
                guard age <= maxAge else { return }
                listing.reporting += 1
                for name in names {
                    var listeners = listing.queues[name] ?? Listeners()
                    listeners.workers += 1
                    listeners.newestAge = min(listeners.newestAge, age)
                    listing.queues[name] = listeners
                }
            }
        }
        return listing
    }
}
