import Foundation
import ProbeCore
import Testing

/// Pure pieces of the data-layer checks: watermarks, INFO, percentiles, error names.
struct DataStoreParsingTests {
    static let gb = 1_073_741_824.0

    @Test func defaultFloodStageIsFivePercentCappedAt100GB() throws {
        let flood = try #require(DiskWatermark.effective(.floodStage, persistent: [:], transient: [:], defaults: [:]))
        #expect(abs(flood.freeThreshold(total: 200 * Self.gb) - 10 * Self.gb) < 1)
        #expect(flood.freeThreshold(total: 4096 * Self.gb) == 100 * Self.gb)
    }

    @Test func anExplicitPercentageHasNoHeadroomUnlessGivenOne() throws {
        let key = DiskWatermark.Level.floodStage.settingKey
        let set = try #require(
            DiskWatermark.effective(
                .floodStage, persistent: [key: "95%"], transient: [:],
                defaults: [key + ".max_headroom": "100GB"]))
        #expect(set.maxHeadroom == nil)
        #expect(abs(set.freeThreshold(total: 4096 * Self.gb) - 4096 * Self.gb * 0.05) < 1)
        let capped = try #require(
            DiskWatermark.effective(
                .floodStage, persistent: [key: "95%", key + ".max_headroom": "20gb"],
                transient: [:], defaults: [:]))
        #expect(capped.freeThreshold(total: 4096 * Self.gb) == 20 * Self.gb)
    }

    @Test func absoluteAndRatioForms() throws {
        let key = DiskWatermark.Level.floodStage.settingKey
        let absolute = try #require(
            DiskWatermark.effective(
                .floodStage, persistent: [:], transient: [:],
                defaults: [key: "500mb", key + ".max_headroom": "-1"]))
        #expect(absolute.form == .freeBytes(500 * 1_048_576))
        #expect(absolute.freeThreshold(total: 50 * Self.gb) == 500 * 1_048_576)
        let ratio = try #require(
            DiskWatermark.effective(.floodStage, persistent: [:], transient: [key: "0.9"], defaults: [:]))
        #expect(ratio.form == .usedRatio(0.9))
        #expect(DiskWatermark.form("lots") == nil)
    }

    @Test func flattenReadsNestedAndDottedKeys() {
        let nested = JSONValue.parse(
            Data(
                #"{"cluster":{"routing":{"allocation":{"disk":{"watermark":{"flood_stage":"95%","flood_stage.max_headroom":"100GB"}}}}}}"#
                    .utf8))
        let flat = DiskWatermark.flatten(nested)
        #expect(flat["cluster.routing.allocation.disk.watermark.flood_stage"] == "95%")
        #expect(flat["cluster.routing.allocation.disk.watermark.flood_stage.max_headroom"] == "100GB")
    }

    @Test func redisInfoAndErrorReplies() {
        let info = RedisInfo(
            "# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:42\r\n\r\n# Memory\r\nused_memory:1024\r\n")
        #expect(info["redis_version"] == "7.0.15")
        #expect(info.number("uptime_in_seconds") == 42)
        #expect(RedisErrorReply("MISCONF Redis is configured to save RDB snapshots") == .misconf)
        #expect(RedisErrorReply("WRONGPASS invalid username-password pair or user is disabled.").isAuthentication)
        #expect(RedisErrorReply("ERR invalid password") == .wrongpass)
        #expect(RedisErrorReply("ERR unknown command") == .other)
    }

    @Test func percentilesAreNearestRank() throws {
        let summary = try #require(LatencySummary((1...100).map(Double.init)))
        #expect(summary.p50 == 50)
        #expect(summary.p99 == 99)
        #expect(summary.max == 100)
        #expect(try #require(LatencySummary([3, 1, 2])).p50 == 2)
    }

    @Test func byteSizes() {
        #expect(ByteSize.parse("500mb") == 500 * 1_048_576.0)
        #expect(ByteSize.parse("100GB") == 100 * Self.gb)
        #expect(ByteSize.parse("95%") == nil)
        #expect(ByteSize.format(8 * Self.gb) == "8.0 GB")
    }

    @Test func mongoCodesAreNamed() {
        #expect(MongoErrorCodes.name(10107) == "NotWritablePrimary")
        #expect(MongoErrorCodes.name(64, given: "WriteConcernFailed") == "WriteConcernFailed")
        #expect(MongoErrorCodes.isAuthentication(13))
    }
}
