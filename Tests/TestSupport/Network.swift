import Foundation

/// Loopback ports for servers started by tests, picked at run time.
public enum Ports {
    /// A port that was free a moment ago (bound to 0 and released).
    public static func free() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on (for "connection refused").
    public static func closed() -> Int { free() }

    /// A free port below `limit`: Redis in cluster mode also listens on its port + 10000 and refuses ports above
    /// 55535, while the kernel hands out ports up to 60999.
    public static func free(below limit: Int) -> Int {
        while true {
            let port = free()
            if port < limit { return port }
        }
    }

    /// Waits until something accepts TCP connections on the port.
    public static func waitListening(_ port: Int, timeout: Double = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if canConnect(port) { return }
            usleep(20_000)
        }
        throw TestSupportError("nothing listens on 127.0.0.1:\(port) after \(timeout) s")
    }

    public static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}

/// Where the repository is, so tests find `Tests/doubles`, `compose/` and `probes/`.
public enum Repository {
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        return FileManager.default.currentDirectoryPath
    }()

    public static func path(_ relative: String) -> String { root + "/" + relative }
}

/// A fresh temporary folder, removed by `remove()`.
public struct TempDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "clearml-probe-test") throws {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func write(_ name: String, _ content: String) throws -> String {
        let file = self.file(name)
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
