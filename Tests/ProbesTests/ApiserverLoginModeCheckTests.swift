import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@testable import Probes

/// `apiserver.login_mode` against the ClearML double: fixed users enforced (OK), lost (the cause of the probe's
/// 401/22, not "the probe is blind"), a guest user, and Elasticsearch startup errors.
@Suite(.serialized)
final class ApiserverLoginModeCheckTests {
    static let fixture = Result { try ClearMLDoubleFixture() }
    let clearml: ClearMLDoubleFixture

    init() async throws {
        clearml = try Self.fixture.get()
        try await clearml.reset()
    }

    func run(_ checks: String = "  apiserver.login_mode: {}\n  apiserver.auth: {}\n  apiserver.ping: {}") async throws
        -> Report
    {
        await clearml.run(
            try clearml.loaded(checks: checks, ingress: false),
            only: [.apiserverLoginMode, .apiserverAuth, .apiserverPing])
    }

    @Test func fixedUsersEnforcedIsOK() async throws {
        let report = try await run()
        let mode = try #require(report.result("apiserver.login_mode"))
        #expect(mode.status == .ok, "\(mode.summary)")
        #expect(mode.summary.contains("fixed users enforced"))
        #expect(mode.metrics["fixed_users"] == 1)
        #expect(try await clearml.count("api", "login.supported_modes") == 1)
    }

    @Test func lostFixedUsersAreTheCauseOfTheRejectedKey() async throws {
        try await clearml.scenario(api: "fixed_users_off")
        let report = try await run()
        let mode = try #require(report.result("apiserver.login_mode"))
        #expect(mode.status == .critical)
        #expect(mode.summary.contains("fixed users are not enforced"), "\(mode.summary)")
        #expect(mode.role == .rootCause)
        let auth = try #require(report.result("apiserver.auth/direct"))
        #expect(auth.summary.contains("401/22"), "\(auth.summary)")
        #expect(auth.role == .symptom, "\(auth.role)")
        #expect(report.rootCauses == ["apiserver.login_mode"])
    }

    @Test func aWrongKeyWithFixedUsersOnIsStillTheProbeBeingBlind() async throws {
        try await clearml.scenario(api: "bad_credentials")
        let report = try await run()
        #expect(report.result("apiserver.login_mode")?.status == .ok)
        let auth = try #require(report.result("apiserver.auth/direct"))
        #expect(auth.status == .unknown)
        #expect(auth.summary.contains("the probe is blind"))
        #expect(auth.role != .symptom)
    }

    @Test func guestAndElasticsearchStartupErrors() async throws {
        try await clearml.scenario(api: "guest_enabled")
        let guest = try #require(try await run().result("apiserver.login_mode"))
        #expect(guest.status == .warning)
        #expect(guest.summary.contains("guest user is enabled"))
        #expect(!guest.summary.contains("password\":"), "the guest password is not echoed")
        try await clearml.scenario(api: "es_connection_error")
        let es = try #require(try await run().result("apiserver.login_mode"))
        #expect(es.status == .critical)
        #expect(es.summary.contains("without Elasticsearch"), "\(es.summary)")
    }

    @Test func aServerWithoutFixedUsersCanBeDeclared() throws {
        let verdict = ApiserverLoginModeCheck.judge(
            .object(["basic": .object(["enabled": .bool(false)])]),
            expectFixedUsers: false, guestStatus: .warning)
        #expect(verdict.status == .ok)
        #expect(verdict.summary.contains("open"))
        let notClearML = ApiserverLoginModeCheck.judge(.object([:]), expectFixedUsers: true, guestStatus: .warning)
        #expect(notClearML.status == .critical)
    }
}
