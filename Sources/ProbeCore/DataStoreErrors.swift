/// What the data stores' error codes and replies mean, in words a person can act on (docs/data-stores.md).
public enum RedisErrorReply: String, Sendable, CaseIterable {
    case noauth = "NOAUTH"
    case wrongpass = "WRONGPASS"
    case loading = "LOADING"
    case misconf = "MISCONF"
    case readonly = "READONLY"
    case oom = "OOM"
    case busy = "BUSY"
    case noperm = "NOPERM"
    case other = "ERR"

    /// The kind of an error reply, from its first word.
    public init(_ message: String) {
        let word = message.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        if message.hasPrefix("ERR invalid password") || message.hasPrefix("ERR AUTH")
            || message.hasPrefix("ERR Client sent AUTH")
        {
            self = .wrongpass
            return
        }
        self = RedisErrorReply(rawValue: word) ?? .other
    }

    /// The probe's own credentials are refused: the probe is blind, Redis is not proven down.
    public var isAuthentication: Bool { self == .noauth || self == .wrongpass || self == .noperm }

    public var meaning: String {
        switch self {
        case .noauth: "Redis requires a password and the probe gave none"
        case .wrongpass: "Redis refuses the probe's password (or ACL user)"
        case .loading: "Redis is still loading its dataset into memory and refuses commands"
        case .misconf: "Redis refuses writes after a failed background save (stop-writes-on-bgsave-error)"
        case .readonly: "this Redis is a read-only replica and refuses writes"
        case .oom: "Redis is at maxmemory with noeviction and refuses writes"
        case .busy: "a Lua script or function is running and blocks Redis"
        case .noperm: "the probe's ACL user lacks permission for this command"
        case .other: "Redis answered with an error"
        }
    }

    public var hint: String {
        switch self {
        case .noauth, .wrongpass:
            "Give the probe the password the apiserver uses (CLEARML_REDIS_SERVICE_PASSWORD or redis.password)."
        case .loading:
            "Wait for the load to finish; if it repeats, Redis restarts in a loop (see its logs and memory limit)."
        case .misconf:
            "Fix the save (disk full or unwritable data directory, see the Redis log), then BGSAVE; writes resume after a good save."
        case .readonly: "Point ClearML and the probe at the primary, or promote this node (REPLICAOF NO ONE)."
        case .oom:
            "Raise maxmemory or free memory: ClearML needs noeviction, so Redis refuses writes instead of evicting."
        case .busy: "Find the script (SCRIPT KILL / FUNCTION KILL if it has not written)."
        case .noperm:
            "Grant the probe's ACL user +ping +info +set +get +del +client|setname +config|get on clearml-probe:* keys."
        case .other: "See the error text and the Redis log."
        }
    }
}

/// MongoDB server error codes a probe names (docs/data-stores.md, "MongoDB").
public enum MongoErrorCodes {
    public static let names: [Int: String] = [
        2: "BadValue", 11: "UserNotFound", 13: "Unauthorized", 18: "AuthenticationFailed", 50: "MaxTimeMSExpired",
        59: "CommandNotFound", 64: "WriteConcernFailed", 76: "NoReplicationEnabled", 79: "UnknownReplWriteConcern",
        89: "NetworkTimeout", 91: "ShutdownInProgress", 100: "UnsatisfiableWriteConcern", 189: "PrimarySteppedDown",
        10107: "NotWritablePrimary", 11000: "DuplicateKey", 11600: "InterruptedAtShutdown",
        11602: "InterruptedDueToReplStateChange",
        13435: "NotPrimaryNoSecondaryOk", 13436: "NotPrimaryOrSecondary",
    ]

    public static func name(_ code: Int, given: String? = nil) -> String {
        if let given, !given.isEmpty { return given }
        return names[code] ?? "error"
    }

    /// The probe's own identity is refused: the probe is blind, MongoDB is not proven down.
    public static func isAuthentication(_ code: Int) -> Bool { code == 13 || code == 18 || code == 11 }

    public static func hint(_ code: Int) -> String {
        switch code {
        case 13, 18, 11:
            "Give the probe the connection string the apiserver uses (CLEARML_MONGODB_SERVICE_CONNECTION_STRING), with a user allowed to use the clearml_probe database and run serverStatus."
        case 10107, 13435, 13436, 189, 11602:
            "The node is not the primary: point ClearML and the probe at the replica set (replicaSet=…) or fix the election."
        case 64, 100, 79:
            "Writes are not acknowledged by a majority: check replica members (mongo.status), their lag and the disk of the journal."
        case 11600, 91: "MongoDB is shutting down or restarting; if it keeps happening, see its logs and memory limit."
        case 50, 89: "MongoDB is overloaded or a member is slow; see mongo.status and the server's slow log."
        default: "See the MongoDB log for the command's error."
        }
    }
}
