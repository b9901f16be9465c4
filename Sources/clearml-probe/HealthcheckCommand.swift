import ArgumentParser
import Foundation
import NativeClients
import ProbeCore
import Runtime

/// The container healthcheck (the runtime image has no curl): asks the local sidecar's `/healthz`.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 when the local sidecar's scheduler is alive, 1 when not (or when nothing answers).",
        discussion:
            "Asks --url, else http://<$CLEARML_PROBE_LISTEN or 127.0.0.1:9469>/healthz (0.0.0.0 becomes 127.0.0.1)."
    )

    @Option(name: .long, help: "The /healthz URL to ask.")
    var url: String?

    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout: Double = 3

    func run() async throws {
        let target: URL
        if let url {
            guard let parsed = URL(string: url), parsed.scheme != nil else {
                throw ValidationError("--url: '\(url)' is not a URL")
            }
            target = parsed
        } else {
            let listen =
                ProcessInfo.processInfo.environment["CLEARML_PROBE_LISTEN"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "127.0.0.1:\(SidecarSettings.defaultPort)"
            do {
                target = try SidecarSettings.healthURL(listen: listen)
            } catch {
                throw ValidationError("CLEARML_PROBE_LISTEN: \(error.description)")
            }
        }
        var headers: [(name: String, value: String)] = []
        // The same token the sidecar reads: the variable, or the file `CLEARML_PROBE_HTTP_TOKEN_FILE` names (the
        // compose stack passes it as a Docker secret).
        let token: String?
        do {
            token = try EnvironmentSubstitution().value(of: "CLEARML_PROBE_HTTP_TOKEN")
        } catch {
            throw ValidationError(error.description)
        }
        if let token, !token.isEmpty {
            headers.append(("Authorization", "Bearer \(token)"))
        }
        let request = HTTPRequest(
            url: target, headers: headers, connectTimeout: min(timeout, 2), timeout: timeout, maxBodyBytes: 4096)
        switch await HTTPClient().perform(request) {
        case .success(let response) where response.status == 200:
            print("healthy: \(response.text.trimmingCharacters(in: .whitespacesAndNewlines))")
        case .success(let response):
            FileHandle.standardError.write(
                Data("unhealthy: HTTP \(response.status) \(response.text.prefix(200))\n".utf8))
            throw ExitCode(1)
        case .failure(let failure):
            FileHandle.standardError.write(
                Data("unhealthy: no sidecar answers at \(target.absoluteString): \(failure.kind.rawValue)\n".utf8))
            throw ExitCode(1)
        }
    }
}
