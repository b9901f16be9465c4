import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `fileserver.volume`: statvfs of a mounted directory, judged against the thresholds; a missing mount is unknown.
struct FileserverVolumeCheckTests {
    @Test(arguments: [
        (100.0, 50.0, Status.ok, "fileserver volume: "),
        (100.0, 15.0, .warning, "filling up"),
        (100.0, 5.0, .critical, "nearly full"),
    ])
    func thresholdsOnAHundredGigabytes(total: Double, free: Double, expected: Status, words: String) {
        let gb = 1_073_741_824.0
        let verdict = FileserverVolumeCheck.judge(
            total: total * gb, free: free * gb, warningFreePercent: 20,
            criticalFreePercent: 10, criticalFreeBytes: gb)
        #expect(verdict.status == expected)
        #expect(verdict.summary.contains(words), "\(verdict.summary)")
        #expect(verdict.metrics["available_bytes"] == free * gb)
    }

    @Test func aLargeVolumeBelowTheAbsoluteMinimumIsCritical() {
        let gb = 1_073_741_824.0
        let verdict = FileserverVolumeCheck.judge(
            total: 10_000 * gb, free: 0.5 * gb, warningFreePercent: 0,
            criticalFreePercent: 0, criticalFreeBytes: gb)
        #expect(verdict.status == .critical)
    }

    @Test func aRealDirectoryIsMeasuredAndAMissingMountIsUnknown() async throws {
        let dir = try TempDirectory("fileserver-volume")
        defer { dir.remove() }
        let ok = await runCheck(
            FileserverVolumeCheck(path: dir.path, warningFreePercent: 0, criticalFreePercent: 0, criticalFreeBytes: 0),
            .fileserverVolume)
        #expect(ok.result.status == .ok, "\(ok.result.summary)")
        #expect((ok.result.metrics["total_bytes"] ?? 0) > 0)
        #expect(ok.result.service == .fileserver)
        let full = await runCheck(
            FileserverVolumeCheck(
                path: dir.path, warningFreePercent: 100, criticalFreePercent: 100, criticalFreeBytes: 0),
            .fileserverVolume)
        #expect(full.result.status == .critical, "\(full.result.summary)")
        let missing = await runCheck(FileserverVolumeCheck(path: dir.path + "/not-mounted"), .fileserverVolume)
        #expect(missing.result.status == .unknown)
        #expect(missing.result.summary.contains("does not exist"), "\(missing.result.summary)")
        #expect(FileManager.default.enumerator(atPath: dir.path)?.allObjects.isEmpty == true, "nothing is written")
    }

    @Test func configNeedsAPathAndValidatesThresholds() throws {
        let base = "probe: {instance: t}\nchecks:\n  fileserver.volume:\n"
        let none = try LoadedConfig.fromYAML(base + "    path: ''\n")
        guard case .notConfigured(let why)? = none.checks.first(where: { $0.id == .fileserverVolume })?.plan else {
            Issue.record("an empty path is not configured")
            return
        }
        #expect(why.contains("CLEARML_PROBE_FILESERVER_VOLUME"))
        #expect(throws: ConfigError.self) {
            try LoadedConfig.fromYAML(base + "    path: relative\n")
        }
        #expect(throws: ConfigError.self) {
            try LoadedConfig.load(
                yaml: base + "    path: /x\n    warning_free_percent: 5\n    critical_free_percent: 10\n",
                file: "t.yaml",
                substitution: EnvironmentSubstitution(environment: [:]))
        }
    }
}
