import Foundation
import ProbeCore

/// What the chat cards (Teams, Discord, Mattermost, Google Chat) say about a message the same way.
extension AlertMessage {
    /// `MongoDB (data)`: the root-cause service and its layer, as the cards' Service field shows it.
    var serviceAndLayer: String { "\(service.displayName) (\(service.layer.rawValue))" }

    /// The hex colour of Google Chat's severity and Mattermost's attachment bar: green resolved, blue test, yellow
    /// flapping; while firing red critical, orange warning, grey otherwise.
    var cardColor: String {
        switch event {
        case .resolved: return "#2EB886"
        case .test: return "#3498DB"
        case .flapping: return "#F1C40F"
        case .firing, .reminder:
            switch severity {
            case .critical: return "#D00000"
            case .warning: return "#E67E22"
            case .unknown, .ok: return "#95A5A6"
            }
        }
    }
}

extension PayloadJSON {
    /// The payload with the most body lines that fits `maxBytes`: `build(keep)` for `keep` = `lines`, `lines - 1`, …
    /// down to 0, whichever fits first (0 is returned even when it does not fit).
    static func keepingLines(_ lines: Int, maxBytes: Int, _ build: (Int) -> PayloadJSON) -> PayloadJSON {
        var keep = lines
        var payload = build(keep)
        while payload.data.count > maxBytes, keep > 0 {
            keep -= 1
            payload = build(keep)
        }
        return payload
    }
}
