"""Tests for mongo_double.py, driven with pymongo (whose handshake differs from libmongoc's:
pymongo 4.20 sends its handshake over OP_MSG, so the legacy OP_QUERY path libmongoc uses is
exercised with a hand-built message)."""

import json
import socket
import struct
import time
import urllib.error
import urllib.request

import bson
import pytest
from pymongo import MongoClient, WriteConcern
from pymongo.errors import AutoReconnect, NetworkTimeout, NotPrimaryError, OperationFailure, WriteConcernError

from double_client import launch

GB = 1024 ** 3


def control(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def mongo():
    proc, ports = launch("mongo_double.py")
    yield ports
    proc.stdin.close()
    proc.wait(timeout=5)


@pytest.fixture(autouse=True)
def _reset(mongo):
    control(mongo["control"], "/reset", {})


@pytest.fixture
def client(mongo):
    clients = []

    def make(socket_timeout_ms=1500, **kw):
        c = MongoClient(f"mongodb://127.0.0.1:{mongo['mongo']}/?directConnection=true"
                        f"&serverSelectionTimeoutMS=2000&connectTimeoutMS=1000"
                        f"&socketTimeoutMS={socket_timeout_ms}&serverMonitoringMode=poll"
                        f"&retryWrites=false&retryReads=false", **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def scenario(mongo, name, **params):
    status, body = control(mongo["control"], "/scenario", {"scenario": name, **params})
    assert status == 200, body


def requests(mongo):
    return control(mongo["control"], "/requests")[1]


def op_query(port, doc, db="admin"):
    """Send one legacy OP_QUERY command (as libmongoc 1.23 does for its handshake)."""
    body = (struct.pack("<i", 4) + f"{db}.$cmd".encode() + b"\0" + struct.pack("<ii", 0, -1)
            + bson.encode(doc))
    msg = struct.pack("<iiii", 16 + len(body), 7, 0, 2004) + body
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(msg)
        header = s.recv(16, socket.MSG_WAITALL)
        length, _, response_to, opcode = struct.unpack("<iiii", header)
        rest = b""
        while len(rest) < length - 16:
            rest += s.recv(length - 16 - len(rest))
    assert opcode == 1 and response_to == 7  # OP_REPLY to our request
    return bson.decode(rest[20:])


# ------------------------------------------------------------------------------ handshake
def test_legacy_op_query_ismaster(mongo):
    r = op_query(mongo["mongo"], {"isMaster": 1, "helloOk": True,
                                  "client": {"driver": {"name": "mongoc", "version": "1.23.1"}},
                                  "compression": []})
    assert r["ismaster"] is True and r["helloOk"] is True and r["ok"] == 1.0
    assert r["maxWireVersion"] == 21 and r["minWireVersion"] == 0  # mongod 7.0
    assert r["logicalSessionTimeoutMinutes"] == 30
    assert "isWritablePrimary" not in r
    # in-band heartbeats after helloOk: hello, still over OP_QUERY
    r = op_query(mongo["mongo"], {"hello": 1})
    assert r["isWritablePrimary"] is True and "helloOk" not in r
    rec = [q for q in requests(mongo) if q["command"] in ("isMaster", "hello")]
    assert [q["opcode"] for q in rec] == ["OP_QUERY", "OP_QUERY"] and rec[0]["db"] == "admin"


def test_hello_without_sessions_and_wire_version(mongo):
    scenario(mongo, "ok", sessions=False, max_wire_version=17, version="6.0.20")
    r = op_query(mongo["mongo"], {"isMaster": 1, "helloOk": True})
    assert "logicalSessionTimeoutMinutes" not in r and r["maxWireVersion"] == 17


def test_hello_op_msg(client):
    r = client().admin.command("hello")
    assert r["isWritablePrimary"] is True and "setName" not in r


# ------------------------------------------------------------------------------ commands
def test_ping_and_server_status(client):
    c = client()
    assert c.admin.command("ping")["ok"] == 1.0
    s = c.admin.command("serverStatus")
    assert s["version"] == "7.0.22" and s["uptime"] > 86400
    assert set(s["connections"]) >= {"current", "available", "totalCreated"}
    assert "repl" not in s
    assert "bytes currently in the cache" in s["wiredTiger"]["cache"]


def test_write_round_trip_is_recorded(mongo, client):
    c = client()
    coll = c.clearml_probe.get_collection(
        "probe", write_concern=WriteConcern(w="majority", j=True, wtimeout=1000))
    inserted = coll.insert_one({"probe": "x", "at": 1}).inserted_id
    assert coll.find_one({"_id": inserted})["probe"] == "x"
    assert coll.delete_one({"_id": inserted}).deleted_count == 1
    assert coll.find_one({"_id": inserted}) is None
    coll.create_index("at")
    c.close()  # pymongo sends endSessions
    recs = {r["command"]: r for r in requests(mongo)}
    ins = recs["insert"]
    assert ins["db"] == "clearml_probe" and ins["collection"] == "probe"
    assert ins["writeConcern"] == {"w": "majority", "j": True, "wtimeout": 1000}
    assert ins["documents"][0]["probe"] == "x" and ins["has_lsid"]
    assert recs["find"]["filter"] == {"_id": {"$oid": str(inserted)}}
    assert recs["delete"]["deletes"][0]["q"] == {"_id": {"$oid": str(inserted)}}
    assert recs["createIndexes"]["indexes"][0]["key"] == {"at": 1}
    assert "endSessions" in recs


def test_db_stats_and_scale(client):
    db = client().clearml_probe
    s = db.command("dbStats")
    assert s["fsTotalSize"] == 100 * GB and s["fsUsedSize"] == 40 * GB
    s = db.command("dbStats", scale=1024)
    assert s["fsTotalSize"] == 100 * GB / 1024 and s["scaleFactor"] == 1024
    with pytest.raises(OperationFailure) as e:
        db.command("dbStats", scale=0)
    assert e.value.code == 2


def test_repl_status_on_standalone(client):
    with pytest.raises(OperationFailure) as e:
        client().admin.command("replSetGetStatus")
    assert e.value.code == 76 and e.value.details["codeName"] == "NoReplicationEnabled"


def test_unknown_command(client):
    with pytest.raises(OperationFailure) as e:
        client().admin.command("frobnicate")
    assert e.value.code == 59


# ------------------------------------------------------------------------------ scenarios
def test_write_concern_error(mongo, client):
    scenario(mongo, "write_concern_error")
    coll = client().clearml_probe.get_collection(
        "probe", write_concern=WriteConcern(w="majority", j=True, wtimeout=1000))
    with pytest.raises(WriteConcernError) as e:
        coll.insert_one({"_id": 1})
    assert e.value.code == 64
    wce = e.value.details
    assert wce["codeName"] == "WriteConcernFailed" and wce["errInfo"] == {"wtimeout": True}
    assert wce["errmsg"] == "waiting for replication timed out"
    assert coll.find_one({"_id": 1}) == {"_id": 1}  # the write happened anyway
    insert = [r for r in requests(mongo) if r["command"] == "insert"][0]
    assert insert["reply"]["n"] == 1 and insert["reply"]["ok"] == 1.0


def test_not_primary(mongo, client):
    scenario(mongo, "not_primary")
    c = client()
    hello = c.admin.command("hello")
    assert hello["isWritablePrimary"] is False and hello["secondary"] is True
    assert hello["setName"] == "rs0"
    with pytest.raises(NotPrimaryError) as e:  # pymongo's class for the "not primary" codes
        c.clearml_probe.probe.insert_one({"x": 1})
    assert e.value.details["code"] == 10107 and e.value.details["codeName"] == "NotWritablePrimary"


def test_unauthorized(mongo, client):
    scenario(mongo, "unauthorized")
    c = client()
    assert c.admin.command("ping")["ok"] == 1.0  # ping needs no authentication
    with pytest.raises(OperationFailure) as e:
        c.admin.command("serverStatus")
    assert e.value.code == 13 and e.value.details["codeName"] == "Unauthorized"


def test_hang_after_handshake(mongo, client):
    scenario(mongo, "hang")
    r = op_query(mongo["mongo"], {"isMaster": 1, "helloOk": True})
    assert r["ok"] == 1.0  # the handshake still works
    c = client(socket_timeout_ms=400)
    t0 = time.monotonic()
    with pytest.raises(NetworkTimeout):
        c.admin.command("ping")
    assert 0.35 < time.monotonic() - t0 < 3


def test_replset_lag(mongo, client):
    scenario(mongo, "replset_lag", lag_seconds=25, unhealthy_member=True)
    c = client()
    st = c.admin.command("replSetGetStatus")
    by_state = {m["stateStr"]: m for m in st["members"]}
    lag = by_state["PRIMARY"]["optimeDate"] - by_state["SECONDARY"]["optimeDate"]
    assert 24 <= lag.total_seconds() <= 26
    assert by_state["(not reachable/healthy)"]["health"] == 0.0
    assert all(m["health"] == 1.0 for m in st["members"] if m["stateStr"] != "(not reachable/healthy)")
    assert c.admin.command("serverStatus")["repl"]["setName"] == "rs0"


def test_connections_high(mongo, client):
    scenario(mongo, "connections_high")
    conn = client().admin.command("serverStatus")["connections"]
    assert conn["current"] / (conn["current"] + conn["available"]) > 0.8


def test_disk_low(mongo, client):
    scenario(mongo, "disk_low")
    s = client().clearml_probe.command("dbStats")
    assert (s["fsTotalSize"] - s["fsUsedSize"]) / s["fsTotalSize"] < 0.05


def test_restart_drops_uptime(mongo, client):
    c = client()
    before = c.admin.command("serverStatus")["uptime"]
    scenario(mongo, "restart", uptime_s=3)
    after = c.admin.command("serverStatus")["uptime"]
    assert after < before and after < 60


def test_down_refuses_and_ok_listens_again_on_the_same_port(mongo, client):
    c = client()
    assert c.admin.command("ping")["ok"] == 1.0
    scenario(mongo, "down")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", mongo["mongo"]), timeout=1).close()
    with pytest.raises(AutoReconnect):
        c.admin.command("ping")  # the open connection was dropped, a new one is refused
    scenario(mongo, "ok")
    assert client().admin.command("ping")["ok"] == 1.0
    scenario(mongo, "down")
    control(mongo["control"], "/reset", {})
    socket.create_connection(("127.0.0.1", mongo["mongo"]), timeout=1).close()


def test_data_survives_down_restart_and_other_scenarios(mongo, client):
    coll = client().clearml_probe.probe
    coll.insert_one({"_id": "test:sentinel", "writtenAt": 1})
    for name in ("down", "ok", "restart", "disk_low", "ok"):
        scenario(mongo, name)
    assert client().clearml_probe.probe.find_one({"_id": "test:sentinel"})["writtenAt"] == 1


def test_restarted_empty_drops_data_uptime_and_connections(mongo, client):
    c = client()
    c.clearml_probe.probe.insert_one({"_id": "test:sentinel", "writtenAt": 1})
    c.clearml_probe.probe.create_index("createdAt", expireAfterSeconds=60)
    before = c.admin.command("serverStatus")["uptime"]
    old = c.admin.command("hello")["topologyVersion"]["processId"]
    with socket.create_connection(("127.0.0.1", mongo["mongo"]), timeout=3) as open_connection:
        scenario(mongo, "restarted_empty", uptime_s=2)
        try:
            received = open_connection.recv(1)
        except ConnectionResetError:
            received = b""
        assert received == b"", "the restart dropped the open connection"
    fresh = client()
    assert fresh.clearml_probe.probe.find_one({"_id": "test:sentinel"}) is None
    stats = fresh.clearml_probe.command("dbStats")
    assert stats["objects"] == 0 and stats["collections"] == 0 and stats["indexes"] == 0
    assert fresh.admin.command("serverStatus")["uptime"] < min(before, 60)
    assert fresh.admin.command("hello")["topologyVersion"]["processId"] != old
    scenario(mongo, "ok")  # it stays empty: the data is gone, not hidden
    assert fresh.clearml_probe.probe.find_one({"_id": "test:sentinel"}) is None


def test_injected_error_and_control_validation(mongo, client):
    scenario(mongo, "ok", errors={"insert": {"code": 11600, "codeName": "InterruptedAtShutdown",
                                             "errmsg": "interrupted at shutdown"}})
    with pytest.raises(NotPrimaryError) as e:
        client().clearml_probe.probe.insert_one({"x": 1})
    assert e.value.details["code"] == 11600
    assert control(mongo["control"], "/scenario", {"scenario": "nope"})[0] == 400
    assert control(mongo["control"], "/scenario", {"scenario": "ok", "bogus": 1})[0] == 400


def test_secrets_masked(mongo):
    op_query(mongo["mongo"], {"saslStart": 1, "mechanism": "SCRAM-SHA-256",
                              "payload": b"n,,n=user,r=secretnonce"})
    rec = [r for r in requests(mongo) if r["command"] == "saslStart"][0]
    assert rec["doc"]["payload"] == "<masked>" and "secretnonce" not in json.dumps(rec)
    assert rec["reply"]["code"] == 18
