#!/usr/bin/env python3
"""MongoDB 7.0 double for clearml-probe tests, built on MockupDB (see requirements.txt).

Answers the wire-protocol handshake (legacy OP_QUERY isMaster/hello, as libmongoc 1.23 sends it,
and OP_MSG hello) and the commands a probe uses, in the shapes mongod 7.0 answers them
(docs/data-stores.md, "MongoDB"). Faults are selected through a
separate HTTP control port; every command document received is recorded.

Launch:  python3 mongo_double.py [--port 0] [--control-port 0] [--scenario ok] [--no-stdin-watch]
Ready:   one stdout line  {"ready":true,"ports":{"mongo":N,"control":N}}
Exit:    when stdin reaches EOF (unless --no-stdin-watch) or on SIGTERM/SIGINT.
Control: POST /scenario {"scenario": NAME, ...params}   GET /scenario   GET /requests
         POST /reset                                     (see Tests/doubles/README.md)
"""

import argparse
import copy
import datetime
import json
import sys
import threading
import time
import traceback

from bson import Int64, ObjectId, Timestamp, json_util
from mockupdb import MockupDB, OpMsg

import double_support
from double_support import ScenarioControlHandler, run_until_exit

GB = 1024 ** 3

OP_NAMES = {2004: "OP_QUERY", 2013: "OP_MSG"}
WIRE_BY_VERSION = {"6.0": 17, "7.0": 21, "8.0": 25}
HANDSHAKE = {"ismaster", "hello"}
NO_AUTH_NEEDED = HANDSHAKE | {"ping", "buildinfo", "endsessions", "saslstart", "saslcontinue",
                              "authenticate", "getnonce", "logout"}
AUTH_COMMANDS = {"saslstart", "saslcontinue", "authenticate"}
WRITE_COMMANDS = {"insert", "update", "delete"}
PRIMARY_ONLY = WRITE_COMMANDS | {"createindexes", "drop", "findandmodify"}
SECRET_FIELDS = {"pwd"}  # anywhere
AUTH_SECRET_FIELDS = {"payload", "key", "nonce", "pwd"}  # in auth commands

WCE_DEFAULT = {"code": 64, "codeName": "WriteConcernFailed",
               "errmsg": "waiting for replication timed out", "errInfo": {"wtimeout": True}}

BASE_CONFIG = {
    "version": "7.0.22",
    "max_wire_version": None,        # None: derived from version (6.0→17, 7.0→21, 8.0→25)
    "sessions": True,                # hello carries logicalSessionTimeoutMinutes (so lsid is sent)
    "replset": False,
    "primary": True,                 # False: this node is a SECONDARY (not_primary)
    "lag_seconds": 0,                # secondary optimeDate lag behind the primary
    "unhealthy_member": False,       # a third member with health 0
    "connections": {"current": 12, "available": 838848, "totalCreated": 340},
    "fs_total_size": 100 * GB,
    "fs_used_size": 40 * GB,
    "write_concern_error": None,     # dict -> every write replies ok:1 + this writeConcernError
    "auth_required": False,          # unauthorized: commands fail with 13
    "hang": False,                   # handshake answered, every other command never answered
    "hang_commands": [],             # only these commands are never answered
    "errors": {},                    # {"insert": {"code": 11600, "codeName": ..., "errmsg": ...}}
    "delay_ms": 0,                   # answer non-handshake commands after this delay
    "down": False,                   # mongod stopped: listener closed (connections refused), open ones dropped
}

SCENARIOS = {
    "ok": {},
    "write_concern_error": {"write_concern_error": WCE_DEFAULT},
    "not_primary": {"replset": True, "primary": False},
    "unauthorized": {"auth_required": True},
    "hang": {"hang": True},
    "replset": {"replset": True},
    "replset_lag": {"replset": True, "lag_seconds": 30},
    "connections_high": {"connections": {"current": 850, "available": 150, "totalCreated": 9000}},
    "disk_low": {"fs_total_size": 100 * GB, "fs_used_size": 98 * GB},
    "restart": {},
    # mongod restarted on an empty data directory (a lost volume, a botched upgrade): no data, no indexes.
    "restarted_empty": {},
    "down": {"down": True},
}


def ext(obj):
    """A BSON value as relaxed extended JSON (a plain JSON value)."""
    return json.loads(json_util.dumps(obj, json_options=json_util.RELAXED_JSON_OPTIONS))


def masked(doc, secret=SECRET_FIELDS):
    if isinstance(doc, dict):
        return {k: ("<masked>" if k in secret else masked(v, secret)) for k, v in doc.items()}
    if isinstance(doc, list):
        return [masked(v, secret) for v in doc]
    return doc


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.port = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scenario = "ok"
            self.config = copy.deepcopy(BASE_CONFIG)
            self.started = time.time() - 5 * 86400  # up for 5 days
            self.process_id = ObjectId()
            self.data = {}        # (db, coll) -> [docs]
            self.indexes = {}     # (db, coll) -> [index names]
            self.conn_ids = {}    # client port -> connectionId
            self.next_conn_id = 1
        LISTENER.follow(self)

    def set_scenario(self, body):
        name = body.get("scenario", "ok")
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
        cfg = copy.deepcopy(BASE_CONFIG)
        cfg.update(copy.deepcopy(SCENARIOS[name]))
        for k, v in body.items():
            if k in ("scenario", "uptime_s"):
                continue
            if k not in BASE_CONFIG:
                raise ValueError(f"unknown parameter {k!r}; known: {sorted(BASE_CONFIG)} + uptime_s")
            if k == "connections":
                v = {**cfg["connections"], **v}
            cfg[k] = v
        with self.lock:
            self.scenario = name
            self.config = cfg
            if name in ("restart", "restarted_empty"):
                self.started = time.time() - float(body.get("uptime_s", 5))
                self.process_id = ObjectId()
                self.conn_ids.clear()
                self.next_conn_id = 1
            elif "uptime_s" in body:
                self.started = time.time() - float(body["uptime_s"])
            if name == "restarted_empty":
                # Data is kept across every other scenario (down included), as mongod keeps its data directory.
                self.data.clear()
                self.indexes.clear()
        if name == "restarted_empty":
            LISTENER.bounce()  # a restarted mongod has dropped every open connection
        LISTENER.follow(self)
        return self.describe()

    def describe(self):
        return {"scenario": self.scenario, "config": ext(self.config)}


class Listener:
    """The MongoDB port, open or closed as the scenario says. `down` is mongod stopped: the listening socket is
    closed (a connect is refused, as from a stopped mongod) and open connections are dropped; any other scenario
    (or /reset) binds the same port again, as a restarted mongod would."""

    def __init__(self):
        self.lock = threading.Lock()
        self.server = None
        self.port = 0

    def start(self, port):
        with self.lock:
            self.server = self._open(port)
            self.port = self.server.port
            return self.port

    @staticmethod
    def _open(port):
        server = MockupDB(port=port, request_timeout=int(1e6))
        server._address = (double_support.LOOPBACK, port)  # MockupDB binds "localhost"; pin loopback IPv4
        server.autoresponds(handle)
        server.run()
        return server

    def bounce(self):
        """mongod stopped and started again on the same port: open connections are dropped."""
        with self.lock:
            if self.server is not None:
                self.server.stop()
                self.server = self._open(self.port)

    def follow(self, state):
        """Called after every scenario change: closes or reopens the port to match `config["down"]`."""
        if not self.port:
            return  # not started yet (the initial reset)
        down = bool(state.config.get("down"))
        with self.lock:
            if down and self.server is not None:
                self.server.stop()
                self.server = None
            elif not down and self.server is None:
                self.server = self._open(self.port)


LISTENER = Listener()
STATE = State()


# --------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------
def err(code, code_name, errmsg, **extra):
    return {"ok": 0.0, "errmsg": errmsg, "code": code, "codeName": code_name, **extra}


def me():
    return f"127.0.0.1:{STATE.port}"


def other_hosts(cfg):
    hosts = ["clearml-mongo-2:27017"]
    if cfg["unhealthy_member"]:
        hosts.append("clearml-mongo-3:27017")
    return hosts


def wire(cfg):
    if cfg["max_wire_version"] is not None:
        return int(cfg["max_wire_version"])
    return WIRE_BY_VERSION.get(".".join(cfg["version"].split(".")[:2]), 21)


def hello_reply(cmd, doc, cfg, conn_id):
    legacy = cmd.lower() == "ismaster"
    writable = (not cfg["replset"]) or cfg["primary"]
    r = {("ismaster" if legacy else "isWritablePrimary"): writable}
    if doc.get("helloOk"):
        r["helloOk"] = True
    r["topologyVersion"] = {"processId": STATE.process_id, "counter": Int64(0)}
    if cfg["replset"]:
        t = now()
        r.update({
            "hosts": [me()] + other_hosts(cfg) if cfg["primary"] else other_hosts(cfg)[:1] + [me()],
            "setName": "rs0", "setVersion": 1, "secondary": not cfg["primary"],
            "primary": me() if cfg["primary"] else other_hosts(cfg)[0], "me": me(),
            "lastWrite": {"opTime": {"ts": Timestamp(int(t.timestamp()), 1), "t": Int64(3)},
                          "lastWriteDate": t, "majorityOpTime": {
                              "ts": Timestamp(int(t.timestamp()), 1), "t": Int64(3)},
                          "majorityWriteDate": t},
        })
        if cfg["primary"]:
            r["electionId"] = ObjectId("7fffffff0000000000000003")
    r.update({"maxBsonObjectSize": 16777216, "maxMessageSizeBytes": 48000000,
              "maxWriteBatchSize": 100000, "localTime": now()})
    if cfg["sessions"]:
        r["logicalSessionTimeoutMinutes"] = 30
    r.update({"connectionId": conn_id, "minWireVersion": 0, "maxWireVersion": wire(cfg),
              "readOnly": False, "ok": 1.0})
    return r


def server_status(cfg):
    up = time.time() - STATE.started
    c = cfg["connections"]
    r = {
        "host": "clearml-mongo:27017", "version": cfg["version"], "process": "mongod",
        "pid": Int64(1), "uptime": float(int(up)), "uptimeMillis": Int64(int(up * 1000)),
        "uptimeEstimate": Int64(int(up)), "localTime": now(),
        "asserts": {"regular": 0, "warning": 0, "msg": 0, "user": 12, "rollovers": 0},
        "connections": {"current": c["current"], "available": c["available"],
                        "totalCreated": c["totalCreated"], "rejected": 0,
                        "active": min(3, c["current"]), "threaded": c["current"],
                        "exhaustIsMaster": 0, "exhaustHello": 1, "awaitingTopologyChanges": 1,
                        "loadBalanced": 0},
        "mem": {"bits": 64, "resident": 180, "virtual": 2900, "supported": True},
        "opcounters": {"insert": Int64(10), "query": Int64(200), "update": Int64(30),
                       "delete": Int64(10), "getmore": Int64(0), "command": Int64(5000)},
        "storageEngine": {"name": "wiredTiger", "supportsCommittedReads": True,
                          "oldestRequiredTimestampForCrashRecovery": Timestamp(0, 0),
                          "supportsPendingDrops": True, "dropPendingIdents": Int64(0),
                          "supportsSnapshotReadConcern": True, "readOnly": False,
                          "persistent": True, "backupCursorOpen": False},
        "wiredTiger": {"cache": {"bytes currently in the cache": 25 * 1024 * 1024,
                                 "maximum bytes configured": 3 * GB // 2,
                                 "tracked dirty bytes in the cache": 1024 * 1024,
                                 "pages read into cache": 400,
                                 "pages written from cache": 900}},
    }
    if cfg["replset"]:
        r["repl"] = {"topologyVersion": {"processId": STATE.process_id, "counter": Int64(0)},
                     "hosts": [me()] + other_hosts(cfg), "setName": "rs0", "setVersion": 1,
                     "isWritablePrimary": cfg["primary"], "secondary": not cfg["primary"],
                     "primary": me() if cfg["primary"] else other_hosts(cfg)[0], "me": me(),
                     "rbid": 1}
    r["ok"] = 1.0
    return r


def repl_status(cfg):
    if not cfg["replset"]:
        return err(76, "NoReplicationEnabled", "not running with --replSet")
    t = now()
    lagged = t - datetime.timedelta(seconds=float(cfg["lag_seconds"]))
    up = int(time.time() - STATE.started)

    def member(i, name, state, state_str, optime_date, health=1.0, self_=False):
        ts = int(optime_date.timestamp())
        m = {"_id": i, "name": name, "health": health, "state": state, "stateStr": state_str,
             "uptime": up, "optime": {"ts": Timestamp(ts, 1), "t": Int64(3)},
             "optimeDate": optime_date, "lastAppliedWallTime": optime_date,
             "lastDurableWallTime": optime_date, "syncSourceHost": "", "syncSourceId": -1,
             "infoMessage": "", "configVersion": 1, "configTerm": 3}
        if self_:
            m["self"] = True
        else:
            m.update({"optimeDurable": m["optime"], "optimeDurableDate": optime_date,
                      "lastHeartbeat": t, "lastHeartbeatRecv": t, "pingMs": Int64(0),
                      "lastHeartbeatMessage": ""})
        return m

    primary_is_me = cfg["primary"]
    members = [
        member(0, me(), 1 if primary_is_me else 2, "PRIMARY" if primary_is_me else "SECONDARY",
               t if primary_is_me else lagged, self_=True),
        member(1, other_hosts(cfg)[0], 2 if primary_is_me else 1,
               "SECONDARY" if primary_is_me else "PRIMARY", lagged if primary_is_me else t),
    ]
    if primary_is_me:
        members[0]["electionDate"] = t - datetime.timedelta(seconds=up)
    if cfg["unhealthy_member"]:
        epoch = datetime.datetime(1970, 1, 1)
        m = member(2, other_hosts(cfg)[1], 8, "(not reachable/healthy)", epoch, health=0.0)
        m.update({"optime": {"ts": Timestamp(0, 0), "t": Int64(-1)}, "uptime": 0,
                  "lastHeartbeatMessage": "Error connecting to clearml-mongo-3:27017 :: caused by "
                                          ":: Could not find address for clearml-mongo-3:27017"})
        members.append(m)
    return {"set": "rs0", "date": t, "myState": members[0]["state"], "term": Int64(3),
            "syncSourceHost": "", "syncSourceId": -1, "heartbeatIntervalMillis": Int64(2000),
            "majorityVoteCount": 2, "writeMajorityCount": 2,
            "votingMembersCount": len(members), "writableVotingMembersCount": len(members),
            "members": members, "ok": 1.0}


def db_stats(db, doc, cfg):
    scale = doc.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, Int64)):
        return err(2, "BadValue", "scale has to be a number >= 1")
    scale = int(scale)
    if scale < 1:
        return err(2, "BadValue", "scale has to be >= 1")
    colls = [k for k in STATE.data if k[0] == db]
    objects = sum(len(STATE.data[k]) for k in colls)
    data_size = objects * 64
    nidx = sum(len(STATE.indexes.get(k, ["_id_"])) for k in colls)
    return {"db": db, "collections": Int64(len(colls)), "views": Int64(0),
            "objects": Int64(objects), "avgObjSize": 64.0 if objects else 0.0,
            "dataSize": data_size / scale, "storageSize": (4096 * len(colls)) / scale,
            "indexes": Int64(nidx), "indexSize": (4096 * nidx) / scale,
            "totalSize": (4096 * (len(colls) + nidx)) / scale, "scaleFactor": Int64(scale),
            "fsUsedSize": cfg["fs_used_size"] / scale, "fsTotalSize": cfg["fs_total_size"] / scale,
            "ok": 1.0}


def _matches(d, flt):
    for k, v in (flt or {}).items():
        if isinstance(v, dict) and len(v) == 1 and "$eq" in v:
            v = v["$eq"]
        if d.get(k) != v:
            return False
    return True


def write_reply(reply, cfg):
    if cfg["write_concern_error"]:
        reply["writeConcernError"] = copy.deepcopy(cfg["write_concern_error"])
    reply["ok"] = 1.0
    return reply


def run_command(cmd, db, doc, cfg):
    """The reply document for one (non-handshake) command."""
    lc = cmd.lower()
    coll = doc.get(cmd)
    key = (db, coll)
    if lc == "ping":
        return {"ok": 1.0}
    if lc == "buildinfo":
        v = cfg["version"]
        return {"version": v, "gitVersion": "0" * 40, "modules": [], "allocator": "tcmalloc",
                "javascriptEngine": "mozjs", "sysInfo": "deprecated",
                "versionArray": [int(x) for x in v.split(".")] + [0],
                "bits": 64, "debug": False, "maxBsonObjectSize": 16777216,
                "storageEngines": ["devnull", "wiredTiger"], "ok": 1.0}
    if lc == "serverstatus":
        return server_status(cfg)
    if lc == "dbstats":
        return db_stats(db, doc, cfg)
    if lc == "replsetgetstatus":
        if db != "admin":
            return err(13, "Unauthorized", "replSetGetStatus may only be run against the admin "
                                           "database.")
        return repl_status(cfg)
    if lc == "endsessions":
        return {"ok": 1.0}
    if lc in ("saslstart", "saslcontinue", "authenticate"):
        return err(18, "AuthenticationFailed", "Authentication failed.")
    if lc == "insert":
        docs = STATE.data.setdefault(key, [])
        n, write_errors = 0, []
        for i, d in enumerate(doc.get("documents", [])):
            if "_id" in d and any(x.get("_id") == d["_id"] for x in docs):
                write_errors.append({"index": i, "code": 11000, "keyPattern": {"_id": 1},
                                     "keyValue": {"_id": d["_id"]},
                                     "errmsg": f"E11000 duplicate key error collection: "
                                               f"{db}.{coll} index: _id_ dup key: "
                                               f"{{ _id: {d['_id']!r} }}"})
                if doc.get("ordered", True):
                    break
                continue
            docs.append(dict(d))
            n += 1
        reply = {"n": n}
        if write_errors:
            reply["writeErrors"] = write_errors
        return write_reply(reply, cfg)
    if lc == "find":
        docs = [d for d in STATE.data.get(key, []) if _matches(d, doc.get("filter"))]
        limit = abs(int(doc.get("limit", 0) or 0))
        if limit:
            docs = docs[:limit]
        return {"cursor": {"firstBatch": docs, "id": Int64(0), "ns": f"{db}.{coll}"}, "ok": 1.0}
    if lc == "delete":
        docs = STATE.data.get(key, [])
        n = 0
        for spec in doc.get("deletes", []):
            limit = int(spec.get("limit", 0))
            keep, removed = [], 0
            for d in docs:
                if _matches(d, spec.get("q")) and (limit == 0 or removed < limit):
                    removed += 1
                else:
                    keep.append(d)
            docs[:] = keep
            n += removed
        return write_reply({"n": n}, cfg)
    if lc == "update":
        docs = STATE.data.get(key, [])
        n = modified = 0
        for spec in doc.get("updates", []):
            for d in docs:
                if not _matches(d, spec.get("q")):
                    continue
                n += 1
                u = spec.get("u", {})
                before = dict(d)
                if any(k.startswith("$") for k in u):
                    d.update(u.get("$set", {}))
                    for k in u.get("$unset", {}):
                        d.pop(k, None)
                else:
                    d.clear()
                    d.update({"_id": before.get("_id"), **u})
                modified += d != before
                if not spec.get("multi"):
                    break
        return write_reply({"n": n, "nModified": modified}, cfg)
    if lc == "createindexes":
        existing = STATE.indexes.setdefault(key, ["_id_"])
        created_coll = key not in STATE.data
        STATE.data.setdefault(key, [])
        before = len(existing)
        for spec in doc.get("indexes", []):
            if spec.get("name") not in existing:
                existing.append(spec.get("name"))
        reply = {"numIndexesBefore": before, "numIndexesAfter": len(existing)}
        if before == len(existing):
            reply["note"] = "all indexes already exist"
        else:
            reply["createdCollectionAutomatically"] = created_coll
        reply["ok"] = 1.0
        return reply
    if lc == "drop":
        nidx = len(STATE.indexes.pop(key, ["_id_"]))
        STATE.data.pop(key, None)
        return {"nIndexesWas": nidx, "ns": f"{db}.{coll}", "ok": 1.0}
    if lc == "getmore":
        return err(43, "CursorNotFound", f"cursor id {coll} not found")
    if lc == "killcursors":
        return {"cursorsKilled": [], "cursorsNotFound": doc.get("cursors", []),
                "cursorsAlive": [], "cursorsUnknown": [], "ok": 1.0}
    return err(59, "CommandNotFound", f"no such command: '{cmd}'")


# --------------------------------------------------------------------------------------
# MockupDB hook
# --------------------------------------------------------------------------------------
def _reply_later(request, reply, delay_s):
    t = threading.Timer(delay_s, lambda: _safe_reply(request, reply))
    t.daemon = True
    t.start()


def _safe_reply(request, reply):
    try:
        request.replies(reply)
    except OSError:
        pass  # the client went away


def handle(request):
    """Catch-all MockupDB responder: runs under MockupDB's lock, so it never blocks."""
    try:
        return _handle(request)
    except Exception as e:  # a bug in the double must not look like a server hang
        traceback.print_exc(file=sys.stderr)
        request.replies(err(1, "InternalError", f"mongo_double error: {e}"))
        return True


def _handle(request):
    opcode = OP_NAMES.get(request.opcode, str(request.opcode))
    if not request.is_command:
        request.fail("Unsupported OP_QUERY command")  # mongod 6.0+ removed legacy queries
        return True
    doc = request.doc
    if "$query" in doc and opcode == "OP_QUERY":
        doc = doc["$query"]
    cmd = next(iter(doc))
    lc = cmd.lower()
    db = doc.get("$db") if isinstance(request, OpMsg) else request.namespace
    coll = doc.get(cmd)
    record = {
        "time": time.time(), "opcode": opcode, "command": cmd, "db": db,
        "collection": coll if isinstance(coll, str) else None,
        "client_port": request.client_port,
        "doc": ext(masked(dict(doc), AUTH_SECRET_FIELDS if lc in AUTH_COMMANDS else SECRET_FIELDS)),
        "has_lsid": "lsid" in doc,
    }
    for field in ("writeConcern", "documents", "deletes", "updates", "filter", "indexes",
                  "$readPreference"):
        if field in doc:
            record[field] = ext(masked(doc[field]))
    with STATE.lock:
        record["seq"] = len(STATE.requests)
        STATE.requests.append(record)
        cfg = copy.deepcopy(STATE.config)
        record["scenario"] = STATE.scenario
        port = request.client_port
        if port not in STATE.conn_ids:
            STATE.conn_ids[port] = STATE.next_conn_id
            STATE.next_conn_id += 1
        conn_id = STATE.conn_ids[port]

    if lc in HANDSHAKE:
        reply = hello_reply(cmd, doc, cfg, conn_id)
        record["reply"] = ext(reply)
        if "topologyVersion" in doc and "maxAwaitTimeMS" in doc:
            # awaitable hello (streaming monitor): mongod holds it until maxAwaitTimeMS passes
            _reply_later(request, reply, min(float(doc["maxAwaitTimeMS"]) / 1000.0, 10.0))
        else:
            request.replies(reply)
        return True
    if cfg["hang"] or cmd in cfg["hang_commands"] or lc in [c.lower() for c in cfg["hang_commands"]]:
        record["reply"] = None  # never answered
        return True
    if cfg["auth_required"] and lc not in NO_AUTH_NEEDED:
        reply = err(13, "Unauthorized", f"command {cmd} requires authentication")
    elif cmd in cfg["errors"]:
        e = cfg["errors"][cmd]
        reply = err(int(e.get("code", 1)), e.get("codeName", "UnknownError"),
                    e.get("errmsg", "injected error"))
    elif cfg["replset"] and not cfg["primary"] and lc in PRIMARY_ONLY:
        reply = err(10107, "NotWritablePrimary", "not primary")
    elif (cfg["replset"] and not cfg["primary"] and lc in ("find", "count", "aggregate")
          and not _secondary_ok(request, doc)):
        reply = err(13435, "NotPrimaryNoSecondaryOk", "not primary and secondaryOk=false")
    else:
        with STATE.lock:
            reply = run_command(cmd, db, doc, cfg)
    record["reply"] = ext(reply)
    if cfg["delay_ms"]:
        _reply_later(request, reply, float(cfg["delay_ms"]) / 1000.0)
    else:
        request.replies(reply)
    return True


def _secondary_ok(request, doc):
    if isinstance(request, OpMsg):
        rp = doc.get("$readPreference") or {}
        return rp.get("mode", "primary") != "primary"
    return bool((request.flags or 0) & 4)


# --------------------------------------------------------------------------------------
# Control server
# --------------------------------------------------------------------------------------
class ControlHandler(ScenarioControlHandler):
    state = STATE
    scenarios = SCENARIOS


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--scenario", default="ok", choices=sorted(SCENARIOS))
    ap.add_argument("--no-stdin-watch", action="store_true")
    a = ap.parse_args()

    STATE.port = LISTENER.start(a.port)

    ctl = double_support.serve(a.control_port, ControlHandler)
    if a.scenario != "ok":
        STATE.set_scenario({"scenario": a.scenario})
    run_until_exit({"mongo": STATE.port, "control": ctl.server_address[1]}, not a.no_stdin_watch)


if __name__ == "__main__":
    main()
