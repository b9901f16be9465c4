import Foundation
import ProbeCore

/// The probe's ClearML session, in memory only (never written to the state directory): the token and when it was
/// obtained, so every check reuses it and the probe logs in at most once per reuse window (docs/footprint.md).
///
/// Checks of one pass ask at the same time; the first starts the login and the others wait for that same login
/// (single flight). A failed login is shared for `failureHold` seconds, so the checks of one cycle do not each hold
/// an apiserver worker on a dead MongoDB. The probe never calls `auth.logout`: every logout adds to Redis'
/// `revoked_tokens` until the token expires; the token simply lapses after its short `expiration_sec`.
public actor TokenStore {
    public struct Token: Sendable, Equatable {
        public var value: Secret
        public var obtainedAt: Date
        public var expiresAt: Date

        public init(value: Secret, obtainedAt: Date, expiresAt: Date) {
            self.value = value
            self.obtainedAt = obtainedAt
            self.expiresAt = expiresAt
        }
    }

    /// One login attempt, shared by every check that asked for a token while it ran.
    public struct Login: Sendable {
        public var token: Token?
        /// Why the login failed on the last path tried; nil when it succeeded.
        public var problem: ClearMLProblem?
        /// The path it went through (the last one tried).
        public var endpoint: ClearMLEndpoint?
        /// What each path tried said, by target (a direct address that cannot be reached, before the ingress).
        public var failures: [String: ClearMLProblem]
        public var durationMs: Double
        public var at: Date

        public init(
            token: Token?, problem: ClearMLProblem?, endpoint: ClearMLEndpoint?,
            failures: [String: ClearMLProblem] = [:],
            durationMs: Double, at: Date = Date()
        ) {
            self.token = token
            self.problem = problem
            self.endpoint = endpoint
            var failures = failures
            if let problem, let endpoint { failures[endpoint.target] = problem }
            self.failures = failures
            self.durationMs = durationMs
            self.at = at
        }
    }

    /// What a check gets when it asks for a token.
    public struct Grant: Sendable {
        /// The token to use: new, reused, or (after a failed login) the last one still valid; nil when there is none.
        public var token: Token?
        /// The login made or shared for this request; nil when the token was reused.
        public var login: Login?

        public var loginFailed: Bool { login?.problem != nil }
        /// A login succeeded for this request (so Basic credentials, and MongoDB behind them, work right now).
        public var loggedIn: Bool { login != nil && login?.problem == nil }
    }

    /// Seconds a failed login is reported again instead of repeated.
    public static let failureHold: Double = 15
    /// A token this close to its expiry is not handed out.
    static let expiryMargin: Double = 60

    private var current: Token?
    private var lastFailure: Login?
    private var pending: Task<Login, Never>?
    private var renewedAt: Date?
    private var issued: [Secret] = []
    private var fileserver: (token: Token, freshDue: Date)?

    public init() {}

    /// The current token when it is younger than `reuse`; otherwise one login (shared with concurrent callers),
    /// waited for until `deadline`. `force` asks for a new token even inside the reuse window.
    public func token(
        reuse: Double, force: Bool = false, waitUntil deadline: ContinuousClock.Instant, now: Date = Date(),
        login: @escaping @Sendable () async -> Login
    ) async -> Grant {
        if !force, let token = current, now.timeIntervalSince(token.obtainedAt) < reuse, usable(token, now) {
            return Grant(token: token, login: nil)
        }
        if !force, pending == nil, let failure = lastFailure, now.timeIntervalSince(failure.at) < Self.failureHold {
            return Grant(token: lastValid(now), login: failure)
        }
        let task: Task<Login, Never>
        if let pending {
            task = pending
        } else {
            task = Task {
                let result = await login()
                self.finish(result)
                return result
            }
            pending = task
        }
        guard let result = await Self.wait(task, until: deadline) else {
            let waited = ClearMLProblem(
                status: .critical,
                summary: "auth.login started by another check did not finish within this check's deadline",
                hint: "See apiserver.auth for the login's own result.", isTimeout: true, code: "timeout")
            return Grant(
                token: lastValid(Date()), login: Login(token: nil, problem: waited, endpoint: nil, durationMs: 0))
        }
        return Grant(token: result.token ?? lastValid(Date()), login: result)
    }

    private func finish(_ login: Login) {
        pending = nil
        if let token = login.token {
            current = token
            lastFailure = nil
            issued.append(token.value)
            if issued.count > 16 { issued.removeFirst(issued.count - 16) }
        } else {
            lastFailure = login
        }
    }

    private func usable(_ token: Token, _ now: Date) -> Bool {
        token.expiresAt.timeIntervalSince(now) > Self.expiryMargin
    }

    private func lastValid(_ now: Date) -> Token? { current.flatMap { usable($0, now) ? $0 : nil } }

    /// A reused token the apiserver refused (401/30). True when the caller may log in again now: the token is dropped.
    /// That happens at most once per reuse window, so a server that refuses every token is not asked for one per cycle;
    /// otherwise the token is kept and the refusal reported until the window ends.
    public func refused(_ token: Token, reuse: Double, now: Date = Date()) -> Bool {
        if let renewedAt, now.timeIntervalSince(renewedAt) < reuse { return false }
        renewedAt = now
        if current == token { current = nil }
        if fileserver?.token == token { fileserver = nil }
        return true
    }

    /// Every token this process obtained lately, for redaction: none may reach a report, a log or evidence.
    public var knownTokens: [Secret] { issued }

    // MARK: the fileserver's token

    /// The token the fileserver last validated (and cached for 12 h in Redis db 8), and when a token it has not seen
    /// is due again.
    public func fileserverToken(now: Date = Date()) -> (token: Token, freshDue: Date)? {
        guard let fileserver, usable(fileserver.token, now) else { return nil }
        return fileserver
    }

    public func setFileserverToken(_ token: Token, freshDue: Date) { fileserver = (token, freshDue) }

    // MARK: waiting with a deadline

    /// The task's value, or nil at the deadline (the task runs on and still records its outcome).
    static func wait(_ task: Task<Login, Never>, until deadline: ContinuousClock.Instant) async -> Login? {
        let gate = ResumeGate<Login?>()
        let sleeper = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            gate.resume(nil)
        }
        defer { sleeper.cancel() }
        return await withCheckedContinuation { continuation in
            gate.install(continuation)
            Task { gate.resume(await task.value) }
        }
    }
}
