import Foundation
import ProbeCore

/// A sentinel the probe owns in a data store (a Redis key, a Mongo document in the probe's own collection), written
/// once and read every run: missing after it was written means the store came back empty (a lost volume, a botched
/// upgrade, a `FLUSHALL`), which its uptime alone cannot tell from a restart that kept the data.
///
/// What the probe knows lives in `ProbeState` marks (kept in the state directory): when the sentinel was first
/// seen, and when it was found missing. A loss stays a finding for `hold` after it was found, although the sentinel
/// is written again at once, so the alert pages (it needs consecutive failing runs) and then resolves by itself.
public enum StoreSentinel {
    public enum Verdict: Equatable, Sendable {
        /// Present; known since that date.
        case present(since: Date)
        /// Missing for the first time here: written now (or not, under `--read-only`). Nothing is known yet.
        case firstWrite(readOnly: Bool)
        /// The store lost the sentinel: found missing at `lostAt` after it had been written or seen.
        case lost(lostAt: Date)
    }

    /// Pure: the verdict from what the run read and what the state remembers; also the marks to keep.
    /// - Parameters:
    ///   - found: the sentinel was read back in this run.
    ///   - knownSince: the mark of the first run that wrote or saw it.
    ///   - lostAt: the mark of the run that found it missing.
    public static func judge(found: Bool, knownSince: Date?, lostAt: Date?, now: Date, hold: Double, readOnly: Bool)
        -> (verdict: Verdict, knownSince: Date?, lostAt: Date?)
    {
        // A recent loss stays reported for `hold`, whatever the sentinel (written again) says now.
        if let lostAt, now.timeIntervalSince(lostAt) < hold {
            return (.lost(lostAt: lostAt), knownSince, lostAt)
        }
        if found {
            let since = knownSince ?? now
            return (.present(since: since), since, nil)
        }
        if let knownSince {
            // Seen before, missing now: written again (unless read-only) and remembered from now on.
            return (.lost(lostAt: now), readOnly ? knownSince : now, now)
        }
        return (.firstWrite(readOnly: readOnly), readOnly ? nil : now, nil)
    }

    /// The finding for a verdict (nil when there is nothing to say); `holds` names ClearML's state in the store.
    public static func finding(_ verdict: Verdict, store: String, evicting: Bool, holds: String) -> Finding? {
        switch verdict {
        case .present, .firstWrite:
            return nil
        case .lost(let lostAt):
            let ago = Durations.format(seconds: max(0, Date().timeIntervalSince(lostAt)))
            if evicting {
                return Finding(
                    .warning,
                    "the probe's sentinel in \(store) was found missing \(ago) ago: evicted by the maxmemory-policy, or the store lost its data",
                    hint: "Set maxmemory-policy noeviction (ClearML needs it); then a missing sentinel means lost data."
                )
            }
            return Finding(
                .critical,
                "\(store) lost its data: the probe's sentinel, written earlier, was found missing \(ago) ago (the store came back empty: a restart without its data, a lost volume, or its data deleted)",
                hint:
                    "Check the store's data volume and its log around that time; ClearML's state in it (\(holds)) is gone and has to be restored from a backup."
            )
        }
    }

    /// Words for a healthy verdict.
    public static func words(_ verdict: Verdict) -> String {
        switch verdict {
        case .present(let since):
            "sentinel kept for \(Durations.format(seconds: max(0, Date().timeIntervalSince(since))))"
        case .firstWrite(let readOnly):
            readOnly ? "sentinel not written (--read-only): data loss is not watched" : "sentinel written"
        case .lost: "sentinel lost"
        }
    }
}
