"""Tests for es_double.py: it must answer as ES 8.17 does (docs/data-stores.md)."""

import base64
import json
import os
import socket
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import es_double  # noqa: E402  (unit tests of filter_path and watermark math)
from double_client import http, launch  # noqa: E402

GB = 1024 ** 3


@pytest.fixture(scope="module")
def es():
    proc, ports = launch("es_double.py")
    yield ports
    proc.stdin.close()
    proc.wait(timeout=5)


@pytest.fixture(autouse=True)
def _reset(es):
    http(es["control"], "/reset", "POST", {})


def scenario(es, name, **params):
    status, _, body = http(es["control"], "/scenario", "POST", {"scenario": name, **params})
    assert status == 200, body
    return json.loads(body)


def get(es, path, **kw):
    status, headers, body = http(es["es"], path, **kw)
    return status, headers, body


def getj(es, path, **kw):
    status, headers, body = get(es, path, **kw)
    return status, json.loads(body)


def flood_fires(total, avail, watermark, headroom):
    """Reference evaluation straight from the facts sheet."""
    if watermark.endswith("%"):
        limit = total * (100 - float(watermark[:-1])) / 100
        if headroom is not None:
            limit = min(limit, headroom)
        return avail < limit
    assert watermark.endswith("mb")
    return avail < float(watermark[:-2]) * 1024 * 1024


# ---------------------------------------------------------------- filter_path (unit)
def test_filter_path_semantics():
    f = es_double.apply_filter_path
    doc = {"status": "green", "active_shards": 3, "unassigned_shards": 0,
           "nodes": {"abc": {"jvm": {"mem": {"heap_used_percent": 40, "heap_max_in_bytes": 9}},
                             "fs": {"total": {"free_in_bytes": 1}}}},
           "list": [{"a": 1, "b": 2}, {"b": 3}, 7]}
    assert f(doc, "status") == {"status": "green"}
    assert f(doc, "status,*_shards") == {"status": "green", "active_shards": 3,
                                          "unassigned_shards": 0}
    assert f(doc, "nodes.*.jvm.mem.heap_used_percent") == {
        "nodes": {"abc": {"jvm": {"mem": {"heap_used_percent": 40}}}}}
    assert f(doc, "**.free_in_bytes") == {"nodes": {"abc": {"fs": {"total": {"free_in_bytes": 1}}}}}
    assert f(doc, "nodes.**") == {"nodes": doc["nodes"]}
    assert f(doc, "list.a") == {"list": [{"a": 1}]}  # objects without a match drop out
    assert f(doc, "nope") == {}
    assert f(doc, "-nodes,-list") == {"status": "green", "active_shards": 3, "unassigned_shards": 0}
    assert f([{"index": "x", "health": "green"}], "index") == [{"index": "x"}]
    assert f({"a.b": 1, "a": {"b": 2}}, r"a\.b") == {"a.b": 1}


def test_watermark_thresholds_match_facts():
    t = es_double.watermark_free_threshold
    assert t("95%", 100 * GB, 4096 * GB) == 100 * GB  # headroom caps a large disk
    assert t("95%", 100 * GB, 200 * GB) == pytest.approx(10 * GB)
    assert t("95%", None, 4096 * GB) == pytest.approx(4096 * GB * 0.05)
    assert t("500mb", None, 4096 * GB) == 500 * 1024 * 1024
    assert t("0.95", 100 * GB, 200 * GB) == pytest.approx(10 * GB)


# ---------------------------------------------------------------- root, health
def test_root(es):
    status, headers, body = get(es, "/")
    doc = json.loads(body)
    assert status == 200
    assert headers.get("X-elastic-product") == "Elasticsearch"
    assert doc["version"]["number"] == "8.17.0"
    assert doc["tagline"] == "You Know, for Search"
    assert {"name", "cluster_name", "cluster_uuid"} <= set(doc)


HEALTH_FIELDS = {"status", "timed_out", "number_of_nodes", "number_of_data_nodes",
                 "active_primary_shards", "active_shards", "relocating_shards",
                 "initializing_shards", "unassigned_shards", "delayed_unassigned_shards",
                 "number_of_pending_tasks", "task_max_waiting_in_queue_millis",
                 "active_shards_percent_as_number"}


@pytest.mark.parametrize("name,unassigned", [("green", 0), ("yellow", 1), ("red", 1)])
def test_health_statuses(es, name, unassigned):
    scenario(es, name)
    status, doc = getj(es, "/_cluster/health")
    assert status == 200
    assert HEALTH_FIELDS <= set(doc)
    assert doc["status"] == name and doc["unassigned_shards"] == unassigned
    assert (doc["active_shards_percent_as_number"] == 100.0) == (name == "green")
    if name == "red":
        assert doc["unassigned_primary_shards"] == 1


def test_health_filter_path(es):
    status, doc = getj(es, "/_cluster/health?filter_path=status,*_shards")
    assert status == 200
    assert doc["status"] == "green" and "number_of_nodes" not in doc
    assert "unassigned_shards" in doc and "active_shards" in doc


def test_health_wait_for_status_times_out_with_408(es):
    scenario(es, "red")
    t0 = time.monotonic()
    status, doc = getj(es, "/_cluster/health?wait_for_status=yellow&timeout=300ms")
    elapsed = time.monotonic() - t0
    assert status == 408
    assert doc["timed_out"] is True and doc["status"] == "red"
    assert 0.3 <= elapsed < 2.0


def test_health_wait_for_status_returns_when_reached(es):
    scenario(es, "yellow")
    threading.Timer(0.2, lambda: scenario(es, "green")).start()
    t0 = time.monotonic()
    status, doc = getj(es, "/_cluster/health?wait_for_status=green&timeout=5s")
    assert status == 200 and doc["status"] == "green" and doc["timed_out"] is False
    assert time.monotonic() - t0 < 2.0
    # yellow satisfies a wait for yellow at once; green satisfies it too
    scenario(es, "yellow")
    assert getj(es, "/_cluster/health?wait_for_status=yellow&timeout=1s")[0] == 200


def test_parameter_validation_like_es(es):
    status, doc = getj(es, "/_cluster/health?timeout=5")
    assert status == 400 and doc["error"]["type"] == "parse_exception"
    status, doc = getj(es, "/_cluster/health?bogus=1")
    assert status == 400 and doc["status"] == 400
    assert doc["error"]["type"] == "illegal_argument_exception"
    assert "unrecognized parameter: [bogus]" in doc["error"]["reason"]
    assert doc["error"]["root_cause"][0]["type"] == "illegal_argument_exception"
    status, doc = getj(es, "/_nodes/stats/jvm,bogus")
    assert status == 400 and "unrecognized metric: [bogus]" in doc["error"]["reason"]
    # errors are not filtered by filter_path (ES disables filtering for error bodies)
    status, doc = getj(es, "/_cluster/health?bogus=1&filter_path=status")
    assert "error" in doc


# ---------------------------------------------------------------- nodes stats
def node_of(doc):
    (node,) = doc["nodes"].values()
    return node


def test_nodes_stats_metrics(es):
    status, doc = getj(es, "/_nodes/stats/jvm,fs,thread_pool")
    node = node_of(doc)
    assert status == 200 and doc["_nodes"]["successful"] == 1
    mem = node["jvm"]["mem"]
    assert {"heap_used_percent", "heap_used_in_bytes", "heap_max_in_bytes"} <= set(mem)
    assert set(node["fs"]["total"]) == {"total_in_bytes", "free_in_bytes", "available_in_bytes"}
    assert {"active", "queue", "rejected"} <= set(node["thread_pool"]["write"])
    _, doc = getj(es, "/_nodes/stats/jvm")
    node = node_of(doc)
    assert "jvm" in node and "fs" not in node and "thread_pool" not in node
    _, doc = getj(es, "/_nodes/_local/stats/fs?filter_path=nodes.*.fs.total")
    assert list(node_of(doc)) == ["fs"] and list(node_of(doc)["fs"]) == ["total"]


@pytest.mark.parametrize("name,pct", [("heap85", 85), ("heap95", 95)])
def test_heap_scenarios(es, name, pct):
    scenario(es, name)
    mem = node_of(getj(es, "/_nodes/stats/jvm")[1])["jvm"]["mem"]
    assert mem["heap_used_percent"] == pct
    assert mem["heap_used_in_bytes"] * 100 // mem["heap_max_in_bytes"] == pct


def test_heap_and_disk_params(es):
    scenario(es, "green", heap_percent=91, disk_total_bytes=1000 * GB, disk_available_bytes=5 * GB)
    node = node_of(getj(es, "/_nodes/stats/jvm,fs")[1])
    assert node["jvm"]["mem"]["heap_used_percent"] == 91
    assert node["fs"]["total"]["total_in_bytes"] == 1000 * GB
    assert node["fs"]["total"]["available_in_bytes"] == 5 * GB


def test_rejections_increase_per_call(es):
    scenario(es, "rejections", amount=7)
    path = "/_nodes/stats/thread_pool?filter_path=nodes.*.thread_pool.write"
    r1 = node_of(getj(es, path)[1])["thread_pool"]["write"]["rejected"]
    r2 = node_of(getj(es, path)[1])["thread_pool"]["write"]["rejected"]
    assert r2 - r1 == 7


def test_restart_drops_uptime(es):
    up = lambda: node_of(getj(es, "/_nodes/stats/jvm")[1])["jvm"]["uptime_in_millis"]  # noqa
    uuid_before = getj(es, "/")[1]["cluster_uuid"]
    before = up()
    scenario(es, "restart")
    after = up()
    assert after < before and after < 60_000
    assert getj(es, "/")[1]["cluster_uuid"] == uuid_before  # persisted on disk in real ES
    scenario(es, "restart", wipe=True)
    assert getj(es, "/")[1]["cluster_uuid"] != uuid_before


# ---------------------------------------------------------------- settings, disk
WM = "cluster.routing.allocation.disk.watermark."


def test_cluster_settings_defaults(es):
    status, doc = getj(es, "/_cluster/settings?include_defaults=true&flat_settings=true")
    assert status == 200 and doc["persistent"] == {} and doc["transient"] == {}
    d = doc["defaults"]
    assert (d[WM + "low"], d[WM + "high"], d[WM + "flood_stage"]) == ("85%", "90%", "95%")
    assert d[WM + "flood_stage.max_headroom"] == "100GB"
    assert d[WM + "high.max_headroom"] == "150GB" and d[WM + "low.max_headroom"] == "200GB"
    # without flat_settings ES nests, keeping dotted keys where a value and a map collide
    _, nested = getj(es, "/_cluster/settings?include_defaults=true")
    wm = nested["defaults"]["cluster"]["routing"]["allocation"]["disk"]["watermark"]
    assert wm["flood_stage"] == "95%" and wm["flood_stage.max_headroom"] == "100GB"
    _, doc = getj(es, "/_cluster/settings?flat_settings=true")
    assert "defaults" not in doc


def test_disk_absolute_like_clearml_compose(es):
    scenario(es, "disk_absolute")
    _, doc = getj(es, "/_cluster/settings?include_defaults=true&flat_settings=true")
    d = doc["defaults"]
    assert d[WM + "flood_stage"] == "500mb" and d[WM + "flood_stage.max_headroom"] == "-1"
    fs = node_of(getj(es, "/_nodes/stats/fs")[1])["fs"]["total"]
    assert flood_fires(fs["total_in_bytes"], fs["available_in_bytes"], "500mb", None)


def test_persistent_watermark_wins(es):
    scenario(es, "green", watermarks={"flood_stage": "97%"}, watermark_source="persistent")
    _, doc = getj(es, "/_cluster/settings?include_defaults=true&flat_settings=true")
    assert doc["persistent"] == {WM + "flood_stage": "97%"}
    assert WM + "flood_stage" not in doc["defaults"]


@pytest.mark.parametrize("name,fires", [("disk_percent", True), ("disk_ok_large", False),
                                        ("green", False)])
def test_disk_percent_and_headroom(es, name, fires):
    scenario(es, name)
    d = getj(es, "/_cluster/settings?include_defaults=true&flat_settings=true")[1]["defaults"]
    fs = node_of(getj(es, "/_nodes/stats/fs")[1])["fs"]["total"]
    assert d[WM + "flood_stage"] == "95%"
    assert flood_fires(fs["total_in_bytes"], fs["available_in_bytes"], "95%", 100 * GB) is fires
    if name == "disk_ok_large":  # the percentage alone would have fired
        assert flood_fires(fs["total_in_bytes"], fs["available_in_bytes"], "95%", None)
    blocks = getj(es, "/_all/_settings/index.blocks.*?flat_settings=true")[1]
    assert bool(blocks) is fires  # ES puts the flood-stage block on the indices
    report = getj(es, "/_health_report")[1]
    assert (report["indicators"]["disk"]["status"] == "red") is fires


def test_index_blocks(es):
    path = "/_all/_settings/index.blocks.*?flat_settings=true"
    assert getj(es, path) == (200, {})
    scenario(es, "readonly")
    status, doc = getj(es, path)
    name = f"events-log-{es_double.COMPANY}"
    assert status == 200
    assert doc == {name: {"settings": {"index.blocks.read_only_allow_delete": "true"}}}
    nested = getj(es, "/_all/_settings/index.blocks.*")[1]
    assert nested[name]["settings"]["index"]["blocks"]["read_only_allow_delete"] == "true"
    assert getj(es, "/_health_report")[1]["indicators"]["disk"]["status"] == "red"


def test_cat_indices(es):
    path = "/_cat/indices/events-*?format=json&h=index,health,status,docs.count"
    status, rows = getj(es, path)
    assert status == 200 and len(rows) == 4
    assert all(set(r) == {"index", "health", "status", "docs.count"} for r in rows)
    assert all(r["index"].startswith("events-") and isinstance(r["docs.count"], str) for r in rows)
    scenario(es, "red")
    rows = getj(es, path)[1]
    red = [r for r in rows if r["health"] == "red"]
    assert len(red) == 1 and red[0]["docs.count"] is None
    status, doc = getj(es, "/_cat/indices/nope?format=json")
    assert status == 404 and doc["error"]["type"] == "index_not_found_exception"
    status, _, text = get(es, "/_cat/indices/events-*?v&h=index,health")
    assert status == 200 and text.decode().splitlines()[0].split() == ["index", "health"]


def test_health_report(es):
    status, doc = getj(es, "/_health_report?filter_path=status,indicators.*.status")
    assert status == 200 and doc["status"] == "green"
    assert set(doc["indicators"]) >= {"disk", "shards_availability", "master_is_stable"}
    assert all(set(v) == {"status"} for v in doc["indicators"].values())
    scenario(es, "red")
    doc = getj(es, "/_health_report")[1]
    assert doc["status"] == "red" and doc["indicators"]["shards_availability"]["status"] == "red"


# ---------------------------------------------------------------- faults
def test_auth(es):
    scenario(es, "auth", user="elastic", password="s3cret")
    status, headers, body = get(es, "/_cluster/health")
    doc = json.loads(body)
    assert status == 401 and doc["status"] == 401
    assert doc["error"]["type"] == "security_exception"
    assert "missing authentication credentials" in doc["error"]["reason"]
    assert 'Basic realm="security" charset="UTF-8"' in headers["WWW-Authenticate"]
    bad = "Basic " + base64.b64encode(b"elastic:wrong").decode()
    assert get(es, "/", headers={"Authorization": bad})[0] == 401
    good = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
    assert getj(es, "/_cluster/health", headers={"Authorization": good})[0] == 200
    reqs = json.loads(http(es["control"], "/requests")[2])
    assert reqs[-1]["headers"]["Authorization"] == "<masked>" and reqs[-1]["auth_user"] == "elastic"
    assert "s3cret" not in json.dumps(reqs)


def test_no_master_503(es):
    scenario(es, "503")
    status, doc = getj(es, "/_cluster/health")
    assert status == 503 and doc["status"] == 503
    assert doc["error"]["type"] == "master_not_discovered_exception"


def test_garbage(es):
    scenario(es, "garbage")
    status, headers, body = get(es, "/_cluster/health")
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)


def test_hang_then_released_by_reset(es):
    scenario(es, "hang")
    s = socket.create_connection(("127.0.0.1", es["es"]), timeout=0.4)
    s.sendall(b"GET /_cluster/health HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(socket.timeout):
        s.recv(100)
    http(es["control"], "/reset", "POST", {})
    s.settimeout(2)
    assert s.recv(100) == b""  # closed without an answer
    s.close()
    assert getj(es, "/")[0] == 200


def test_requests_recorded_with_query(es):
    getj(es, "/_cluster/health?filter_path=status")
    getj(es, "/_nodes/stats/jvm?filter_path=nodes.*.jvm.mem")
    reqs = json.loads(http(es["control"], "/requests")[2])
    assert [r["path"] for r in reqs] == ["/_cluster/health", "/_nodes/stats/jvm"]
    assert all("filter_path" in r["params"] for r in reqs)
    assert reqs[0]["query"] == "filter_path=status" and reqs[0]["status"] == 200


def test_control_rejects_unknown(es):
    assert http(es["control"], "/scenario", "POST", {"scenario": "nope"})[0] == 400
    assert http(es["control"], "/scenario", "POST", {"scenario": "green", "hepa": 1})[0] == 400


def test_exits_when_stdin_closes():
    proc, _ = launch("es_double.py")
    proc.stdin.close()
    assert proc.wait(timeout=5) == 0
