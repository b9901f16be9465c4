import Foundation
import NativeClients
import ProbeCore

/// What the MongoDB checks share: the persistent client for the configured store, and words for failures.
enum MongoStep {
    /// The probe's own database and collection (docs/footprint.md).
    static let database = "clearml_probe"
    static let collection = "probe"

    static func connection(_ store: MongoStore, _ context: CheckContext) -> MongoConnection {
        DataStoreConnections.shared.mongo(MongoEndpoint(uri: store.uri, timeout: context.settings.timeout))
    }

    static func notConfigured() -> CheckPlan {
        .notConfigured(
            "no MongoDB address (set CLEARML_MONGODB_SERVICE_HOST or CLEARML_MONGODB_SERVICE_CONNECTION_STRING, or mongo.uri)"
        )
    }

    /// `13 Unauthorized`.
    static func codeWords(_ failure: MongoFailure) -> String {
        "\(failure.code) \(MongoErrorCodes.name(failure.code, given: failure.codeName))"
    }

    /// A result for a failed operation; `what` names it for people (`ping`, `the probe's insert`).
    static func failure(
        _ failure: MongoFailure, what: String, store: MongoStore, context: CheckContext, builder: ResultBuilder,
        metrics: [String: Double] = [:]
    ) -> CheckResult {
        let place = store.display
        let waited = Durations.format(seconds: context.settings.timeout)
        var status = Status.critical
        let summary: String
        let hint: String
        switch failure.kind {
        case .nameResolution:
            summary = "cannot resolve \(place): \(failure.message)"
            hint = "Check mongo.uri (CLEARML_MONGODB_SERVICE_HOST) and that the probe is on the stack's network."
        case .serverSelection:
            let text = failure.message.lowercased()
            if text.contains("connection refused") {
                summary = "connection refused at \(place): MongoDB is not listening"
                hint = "Is the MongoDB container running? See its logs (a crash loop, an OOM kill, a full disk)."
            } else if text.contains("connection timeout") {
                summary = "no TCP connection to \(place) within \(waited)"
                hint = "A firewall drops packets, or the host is down or overloaded."
            } else if text.contains("socket timeout") || text.contains("timed out") {
                summary = "\(place) accepts connections but did not complete the handshake within \(waited)"
                hint = "MongoDB is stuck or overloaded (or something else listens there); see its log."
            } else {
                summary = "no usable MongoDB server at \(place) within \(waited): \(failure.message)"
                hint =
                    "For a replica set, check that a primary is elected and that its member names resolve from the probe."
            }
        case .timeout:
            summary = "\(place) did not answer \(what) within \(waited)"
            hint =
                "MongoDB accepted the connection but is stuck: a long lock, a full disk, or swapping; see its log and mongo.status."
        case .io:
            summary = "\(place) broke the connection during \(what): \(failure.message)"
            hint = "See the MongoDB log: a restart, or too many connections."
        case .server, .write:
            if MongoErrorCodes.isAuthentication(failure.code) { status = .unknown }
            summary =
                (status == .unknown ? "the probe is blind: " : "")
                + "\(what) failed with \(codeWords(failure)): \(failure.message)"
            hint = MongoErrorCodes.hint(failure.code)
        case .writeConcern:
            summary = "\(what) was not durable as asked: writeConcernError \(codeWords(failure)) (\(failure.message))"
            hint = MongoErrorCodes.hint(failure.code)
        case .deadline:
            summary =
                "no time left in the \(waited) deadline before \(what) (the client was busy with another MongoDB check)"
            hint = "MongoDB answers slowly; see mongo.ping."
        case .invalidURI:
            status = .unknown
            summary = "the connection string is not usable: \(failure.message)"
            hint = "Fix mongo.uri (CLEARML_MONGODB_SERVICE_CONNECTION_STRING)."
        case .other:
            summary = "\(what) at \(place) failed: \(failure.message)"
            hint = "See the error and the MongoDB log."
        }
        return builder.result(
            status: status, summary: summary, hint: hint, metrics: metrics,
            error: context.redact(failure.description),
            dependsOn: builder.id.livenessDependency(noAnswer: failure.gotNoAnswer),
            reachabilityFailure: failure.isReachability)
    }
}

/// Dates in relaxed extended JSON: `{"$date": "2026-11-27T10:00:00Z"}` or `{"$date": {"$numberLong": "…"}}`.
enum MongoDates {
    static func parse(_ value: JSONValue?) -> Date? {
        guard let date = value?["$date"] else { return nil }
        if let millis = date["$numberLong"]?.double ?? (date.string.flatMap { Double($0) }) {
            return Date(timeIntervalSince1970: millis / 1000)
        }
        guard let text = date.string else { return nil }
        return UTCTimestamp.parseRFC3339(text)
    }

    /// Canonical extended JSON for a date (what `bson_new_from_json` reads without doubt).
    static func json(_ date: Date) -> String {
        #"{"$date": {"$numberLong": "\#(Int64(date.timeIntervalSince1970 * 1000))"}}"#
    }
}
