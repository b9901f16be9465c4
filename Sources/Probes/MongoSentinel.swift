import Foundation
import NativeClients
import ProbeCore

/// The probe's sentinel in MongoDB (`mongo.status`): one document `{_id: "<instance>:sentinel", instance, writtenAt}`
/// in the probe's own `clearml_probe.probe`, read by `_id` every run and inserted only when it is missing.
/// `StoreSentinel` judges what was read.
///
/// It has no `createdAt` on purpose: `mongo.write`'s TTL index expires documents of that collection by `createdAt`,
/// and MongoDB never expires a document that lacks the indexed field (docs/footprint.md), so the sentinel stays.
enum MongoSentinel {
    static func id(instance: String) -> String { "\(instance):sentinel" }

    static func filter(id: String) -> String { #"{"_id": "\#(id)"}"# }

    static func document(id: String, instance: String, at date: Date) -> String {
        #"{"_id": "\#(id)", "instance": "\#(instance)", "writtenAt": \#(MongoDates.json(date))}"#
    }

    /// What a run read: the sentinel's document was there, or not.
    static func found(_ reply: JSONValue, id: String) -> Bool {
        reply["found"]?["_id"]?.string == id
    }

    enum Write: Equatable {
        /// In the store now: inserted, inserted but short of the write concern (the document exists on the primary),
        /// or already there (11000 DuplicateKey: another run inserted it between the read and the insert).
        case written
        /// Not written: the failure says why (no insert privilege, not the primary, no answer).
        case failed(code: String)
    }

    /// Pure: how an insert of the sentinel ended (`failure` nil: acknowledged).
    static func write(failure: MongoFailure?) -> Write {
        guard let failure else { return .written }
        switch failure.kind {
        case .writeConcern: return .written
        case .write where failure.code == 11000: return .written
        case .write, .server: return .failed(code: MongoStep.codeWords(failure))
        case .invalidURI, .nameResolution, .serverSelection, .timeout, .io, .deadline, .other:
            return .failed(code: failure.kind.rawValue)
        }
    }

    /// The finding when the sentinel could not be written (the store's data loss is then not watched).
    static func notWritten(_ code: String) -> Finding {
        Finding(
            .warning,
            "the probe's sentinel could not be written to clearml_probe.probe (\(code)): a MongoDB that comes back empty would go unnoticed",
            hint:
                "Give the probe's user readWrite on the database clearml_probe and point the probe at the primary, or turn the sentinel off (checks.mongo.status.sentinel: false)."
        )
    }
}
