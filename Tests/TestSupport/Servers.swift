import Foundation

/// Debian's nginx on loopback, run from a scratch prefix in the foreground; dies with the test. One process
/// (`master_process off`): a master killed by the test's death signal would leave its workers behind, orphaned and
/// still listening.
public final class NginxServer: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let prefix: TempDirectory
    public let process: TestProcess

    /// `httpBlock` is the content of `http { … }` (server blocks, upstreams); `waitPort` is polled until it listens.
    public init(httpBlock: String, waitPort: Int) throws {
        prefix = try TempDirectory("nginx")
        for folder in ["logs", "tmp"] {
            try FileManager.default.createDirectory(atPath: prefix.file(folder), withIntermediateDirectories: true)
        }
        let conf = """
            daemon off;
            master_process off;
            pid logs/nginx.pid;
            error_log logs/error.log warn;
            events { worker_connections 256; }
            http {
                access_log logs/access.log;
                client_body_temp_path tmp/body;
                proxy_temp_path tmp/proxy;
                fastcgi_temp_path tmp/fastcgi;
                uwsgi_temp_path tmp/uwsgi;
                scgi_temp_path tmp/scgi;
                default_type application/octet-stream;
            \(httpBlock)
            }
            """
        _ = try prefix.write("nginx.conf", conf)
        process = try TestProcess(
            "nginx", executable: "/usr/sbin/nginx", arguments: ["-p", prefix.path, "-c", "nginx.conf"])
        do {
            try Ports.waitListening(waitPort)
        } catch {
            let log = (try? String(contentsOfFile: prefix.file("logs/error.log"), encoding: .utf8)) ?? ""
            throw TestSupportError("nginx did not start: \(process.stderrTail()) \(log)")
        }
    }

    public func stop() {
        process.stop()
        prefix.remove()
    }
}

/// Debian's redis-server on a loopback port, no persistence unless asked; dies with the test.
public final class RedisServer: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let port: Int
    public let process: TestProcess
    public let directory: TempDirectory

    public init(port: Int = Ports.free(), arguments: [String] = [], asUser: String? = nil) throws {
        self.port = port
        directory = try TempDirectory("redis")
        if let asUser { _ = chown(directory.path, uid_t(Int(asUser) ?? 65534), gid_t(Int(asUser) ?? 65534)) }
        process = try TestProcess(
            "redis", executable: "/usr/bin/redis-server",
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--enable-debug-command", "yes",
            ] + arguments,
            asUser: asUser)
        try Ports.waitListening(port)
    }

    public func stop() {
        process.stop()
        directory.remove()
    }
}

/// A test CA and leaf certificates made with openssl, with explicit validity dates.
public struct TestCertificates: Sendable {
    public let directory: TempDirectory
    public var caCertificate: String { directory.file("ca.crt") }

    public init() throws {
        directory = try TempDirectory("certs")
        try Self.openssl(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=clearml-probe test CA",
                "-keyout", directory.file("ca.key"), "-out", directory.file("ca.crt"),
            ], in: directory.path)
    }

    /// Issues `name.crt`/`name.key` for `hosts` (SANs), valid from `start` to `end` (`YYYYMMDDHHMMSSZ`),
    /// signed by the test CA, or self-signed when `selfSigned`.
    @discardableResult
    public func issue(
        _ name: String, hosts: [String], start: Date = Date().addingTimeInterval(-86400),
        end: Date = Date().addingTimeInterval(90 * 86400), selfSigned: Bool = false
    ) throws -> (cert: String, key: String) {
        let key = directory.file("\(name).key")
        let csr = directory.file("\(name).csr")
        let cert = directory.file("\(name).crt")
        let ext = try directory.write(
            "\(name).ext",
            "subjectAltName=" + hosts.map { $0.first!.isNumber ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ","))
        try Self.openssl(
            ["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(hosts[0])", "-keyout", key, "-out", csr],
            in: directory.path)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        // `openssl x509 -req` has no start date option; `openssl ca` has, with a minimal throwaway config.
        let db = directory.file("\(name).index")
        _ = FileManager.default.createFile(atPath: db, contents: nil)
        let serial = try directory.write("\(name).serial", String(format: "%02X\n", Int.random(in: 16...250)))
        let config = try directory.write(
            "\(name).cnf",
            """
            [ca]
            default_ca = test
            [test]
            database = \(db)
            new_certs_dir = \(directory.path)
            serial = \(serial)
            default_md = sha256
            policy = any
            copy_extensions = none
            unique_subject = no
            [any]
            commonName = supplied
            """)
        var arguments = [
            "ca", "-batch", "-config", config, "-in", csr, "-out", cert, "-notext",
            "-startdate", formatter.string(from: start), "-enddate", formatter.string(from: end), "-extfile", ext,
        ]
        if selfSigned {
            arguments += ["-selfsign", "-keyfile", key, "-cert", directory.file("ca.crt")]
        } else {
            arguments += ["-cert", directory.file("ca.crt"), "-keyfile", directory.file("ca.key")]
        }
        try Self.openssl(arguments, in: directory.path)
        return (cert, key)
    }

    static func openssl(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestSupportError(
                "openssl \(arguments.first ?? "") failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}
