import Foundation
import ProbeCore
import Testing

@testable import Probes

@Suite struct WorkerListingTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func listing(_ data: String, maxAge: Double = 600) -> WorkerListing? {
        let body = Data(
            (#"{"meta":{"result_code":200,"result_subcode":0,"result_msg":"OK"},"data":"# + data + "}").utf8)
        var listing = WorkerListing()
        guard
            ClearMLEnvelope.scan(body, data: { listing = try WorkerListing.read(&$0, now: now, maxAge: maxAge) }) != nil
        else { return nil }
        return listing
    }

    static func iso(_ secondsAgo: Double) -> String {
        let seconds = Int(now.timeIntervalSince1970 - secondsAgo)
        let date = Date(timeIntervalSince1970: Double(seconds))
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.000000+00:00", parts.year!, parts.month!, parts.day!, parts.hour!,
            parts.minute!, parts.second!)
    }

    @Test func countsWorkersPerQueueWithTheirNewestReport() throws {
        let data = """
            {"workers":[
              {"company":{"id":"c1","name":"clearml"},"id":"a","queues":[{"id":"q1","name":"default","num_tasks":0},{"id":"q1","name":"default"}],
               "last_activity_time":"\(Self.iso(30))","last_report_time":"\(Self.iso(500))","task":{"id":"t","name":"x","running_time":5}},
              {"id":"b","last_report_time":"\(Self.iso(90))","queues":[{"name":"default"},{"name":"services"}]},
              {"id":"old","last_activity_time":"\(Self.iso(4000))","queues":[{"name":"default"}]},
              {"id":"no times","queues":[{"name":"gpu"}]},
              "not a worker", {"id":"no queues"}
            ]}
            """
        let listing = try #require(Self.listing(data))
        #expect(listing.reporting == 4)
        #expect(listing.listeners("default") == .init(workers: 2, newestAge: 30))
        #expect(listing.listeners("services") == .init(workers: 1, newestAge: 90))
        #expect(listing.listeners("gpu") == .init(workers: 1, newestAge: 0))
        #expect(listing.listeners("nobody").workers == 0)
    }

    @Test(arguments: [#"{"workers":[]}"#, "{}", #"{"workers":"none"}"#, "null"])
    func emptyOrOddDataListsNoWorkers(_ data: String) throws {
        #expect(try #require(Self.listing(data)) == WorkerListing())
    }

    @Test func aCutReplyIsNoListing() {
        #expect(Self.listing(#"{"workers":[{"id":"a","queues":[{"name":"default"}]}"#) == nil)
    }
}
