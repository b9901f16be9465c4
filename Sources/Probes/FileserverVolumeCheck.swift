import Foundation
import NativeClients
import ProbeCore

/// `fileserver.volume`: free space of the fileserver's storage volume (`/mnt/fileserver` in ClearML's compose),
/// read with `statvfs` on a read-only mount of the same volume in the probe's container. A full volume makes every
/// upload fail with 500 (artifacts, models, debug images), and ClearML's async_delete frees space only when it
/// works; this check warns before that. It reads filesystem counters only: no file is opened, listed or written.
public struct FileserverVolumeCheck: Check {
    public var path: String
    public var warningFreePercent: Double
    public var criticalFreePercent: Double
    /// Below this many free bytes the volume is critical whatever the percentage (a large disk at 95 % used).
    public var criticalFreeBytes: Double

    public static func plan(_ options: ConfigMap, _ config: ProbeConfig) throws -> CheckPlan {
        let path = try options.string("path", default: "")
        let warning = try options.double("warning_free_percent", default: 20, range: 0...100)
        let critical = try options.double("critical_free_percent", default: 10, range: 0...100)
        let minimumText = try options.string("critical_free", default: "1gb")
        guard let minimum = ByteSize.parse(minimumText) else {
            throw options.error(key: "critical_free", "'\(minimumText)' is not a size (e.g. 500mb, 1gb)")
        }
        guard critical <= warning else {
            throw options.error(
                key: "critical_free_percent",
                "must not be above warning_free_percent (\(DecimalText.shortest(warning)))")
        }
        guard !path.isEmpty else {
            return .notConfigured(
                "no fileserver volume mounted into the probe (set CLEARML_PROBE_FILESERVER_VOLUME to a read-only mount of /mnt/fileserver)"
            )
        }
        guard path.hasPrefix("/") else { throw options.error(key: "path", "'\(path)' must be an absolute path") }
        return .ready(
            FileserverVolumeCheck(
                path: path, warningFreePercent: warning, criticalFreePercent: critical, criticalFreeBytes: minimum))
    }

    public init(
        path: String, warningFreePercent: Double = 20, criticalFreePercent: Double = 10,
        criticalFreeBytes: Double = 1_073_741_824
    ) {
        self.path = path
        self.warningFreePercent = warningFreePercent
        self.criticalFreePercent = criticalFreePercent
        self.criticalFreeBytes = criticalFreeBytes
    }

    public func run(_ context: CheckContext) async -> [CheckResult] {
        let builder = ResultBuilder(id: .fileserverVolume)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return [
                builder.result(
                    service: .fileserver, status: .unknown,
                    summary: "cannot see the fileserver's volume: \(path) does not exist in the probe's container",
                    hint:
                        "Mount the fileserver's storage (the volume behind /mnt/fileserver) read-only at \(path), or unset checks.fileserver.volume.path."
                )
            ]
        }
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfFileSystem(forPath: path)
        } catch {
            return [
                builder.result(
                    service: .fileserver, status: .unknown,
                    summary: "cannot read the free space of \(path) (statvfs failed)",
                    hint: "Check the mount of the fileserver's volume into the probe.",
                    error: context.redact("\(error)"))
            ]
        }
        let total = (attributes[.systemSize] as? NSNumber)?.doubleValue ?? 0
        let free = (attributes[.systemFreeSize] as? NSNumber)?.doubleValue ?? 0
        let judged = Self.judge(
            total: total, free: free, warningFreePercent: warningFreePercent,
            criticalFreePercent: criticalFreePercent, criticalFreeBytes: criticalFreeBytes)
        return [
            builder.result(
                service: .fileserver, status: judged.status, summary: judged.summary, hint: judged.hint,
                metrics: judged.metrics)
        ]
    }

    /// Pure: the verdict for a volume of `total` bytes with `free` bytes available to unprivileged writers.
    static func judge(
        total: Double, free: Double, warningFreePercent: Double, criticalFreePercent: Double,
        criticalFreeBytes: Double
    ) -> (status: Status, summary: String, hint: String?, metrics: [String: Double]) {
        guard total > 0 else {
            return (
                .unknown, "the fileserver's volume reports a size of 0 bytes",
                "Check the mount of the fileserver's volume into the probe.", [:]
            )
        }
        let percent = free / total * 100
        let metrics = ["total_bytes": total, "available_bytes": free, "free_percent": percent]
        let words =
            "\(ByteSize.format(free)) free of \(ByteSize.format(total)) (\(DecimalText.fixed(percent, places: 0)) %)"
        let hint =
            "Free space on the fileserver's volume: delete old tasks' artifacts (check that async_delete runs and reaches the fileserver), or grow the volume."
        if percent < criticalFreePercent || free < criticalFreeBytes {
            return (
                .critical,
                "the fileserver's volume is nearly full: \(words); uploads of artifacts, models and debug images fail when it is full",
                hint, metrics
            )
        }
        if percent < warningFreePercent {
            return (.warning, "the fileserver's volume is filling up: \(words)", hint, metrics)
        }
        return (.ok, "fileserver volume: \(words)", nil, metrics)
    }
}
