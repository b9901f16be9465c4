import Foundation
import ProbeCore

/// One page of a `queues.get_all` reply (`{"queues":[{"name", "entries":[{"task","added"}]}]}`), read straight from
/// its bytes: per queue its name, how many entries came back and when the oldest of them was added.
struct QueueListing {
    struct Queue: Equatable {
        var name: String
        var waiting: Int
        var oldest: Date?
    }

    var queues: [Queue] = []
    /// Items in the page, with or without a name (a page shorter than the page size is the last one).
    var items = 0

    static func read(_ scanner: inout JSONScanner) throws -> QueueListing {
        var listing = QueueListing()
        try scanner.members { key, scanner in
            guard key == "queues" else { return }
            try scanner.elements { scanner in
                listing.items += 1
                var name: String?
                var waiting = 0
                var oldest: Date?
                try scanner.members { key, scanner in
                    if key == "name" {
                        name = try scanner.value().string
                    } else if key == "entries" {
                        try scanner.elements { scanner in
                            waiting += 1
                            try scanner.members { key, scanner in
                                guard key == "added", let added = ClearMLTime.parse(try scanner.value()) else { return }
                                oldest = min(oldest ?? added, added)
                            }
                        }
                    }
                }
                if let name { listing.queues.append(Queue(name: name, waiting: waiting, oldest: oldest)) }
            }
        }
        return listing
    }
}
