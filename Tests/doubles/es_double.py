#!/usr/bin/env python3
"""Elasticsearch 8.17 HTTP double for clearml-probe tests (stdlib only).

Answers the read-only monitoring APIs a probe uses, in the shapes ES 8.17 answers them
(see docs/data-stores.md), including `filter_path`, parameter validation and ES's
error shape. Faults are selected through a separate control port.

Launch:  python3 es_double.py [--port 0] [--control-port 0] [--scenario green] [--no-stdin-watch]
Ready:   one stdout line  {"ready":true,"ports":{"es":N,"control":N}}
Exit:    when stdin reaches EOF (unless --no-stdin-watch) or on SIGTERM/SIGINT.
Control: POST /scenario {"scenario": NAME, ...params}   GET /scenario   GET /requests
         POST /reset                                     (see Tests/doubles/README.md)
"""

import argparse
import base64
import copy
import fnmatch
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, unquote, urlsplit

import double_support
from double_support import SHUTDOWN, ScenarioControlHandler, run_until_exit

GB = 1024 ** 3
MB = 1024 ** 2
TB = 1024 ** 4

COMPANY = "d1bd92a3b039400cbafc60a7a5b1e52b"  # ClearML's default company id
CLEARML_INDICES = [
    f"events-log-{COMPANY}",
    f"events-training_stats_scalar-{COMPANY}",
    f"events-training_debug_image-{COMPANY}",
    f"events-plot-{COMPANY}",
    f"queue_metrics_{COMPANY}_2026-11",
    f"worker_stats_{COMPANY}_2026-11",
]
BLOCK_KEYS = ["read_only", "read_only_allow_delete", "read", "write", "metadata"]



def _es_id():
    """A 22-character url-safe id like ES node ids and cluster UUIDs."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


# --------------------------------------------------------------------------------------
# filter_path (ES FilterPath semantics: comma separated, dot separated segments,
# `*` inside a segment, `**` for any number of levels, `-` prefix excludes, `\.` escapes)
# --------------------------------------------------------------------------------------
_MISSING = object()


def _split_path(expr):
    segs, cur, i = [], "", 0
    while i < len(expr):
        c = expr[i]
        if c == "\\" and i + 1 < len(expr) and expr[i + 1] == ".":
            cur += "."
            i += 2
            continue
        if c == ".":
            segs.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    segs.append(cur)
    return segs


def _seg_match(pattern, name):
    if "*" not in pattern:
        return pattern == name
    regex = "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$"
    return re.match(regex, name, re.S) is not None


def _advance(filters, key):
    """Filters that apply below `key`; an empty list inside means 'fully matched'."""
    out = []
    for f in filters:
        if not f:
            out.append(f)
            continue
        if f[0] == "**":
            out.append(f)  # ** consumes this level and may consume more
            rest = f[1:]
            if not rest:
                out.append([])
            else:
                out.extend(_advance([rest], key))  # ** consumes zero levels
        elif _seg_match(f[0], key):
            out.append(f[1:])
    return out


def _include(value, filters):
    if any(len(f) == 0 for f in filters):
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            nxt = _advance(filters, k)
            if nxt:
                sub = _include(v, nxt)
                if sub is not _MISSING:
                    out[k] = sub
        return out if out else _MISSING
    if isinstance(value, list):
        out = [x for x in (_include(v, filters) for v in value) if x is not _MISSING]
        return out if out else _MISSING
    return _MISSING


def _exclude(value, filters):
    if any(len(f) == 0 for f in filters):
        return _MISSING
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            nxt = _advance(filters, k)
            sub = _exclude(v, nxt) if nxt else v
            if sub is not _MISSING:
                out[k] = sub
        return out
    if isinstance(value, list):
        return [x for x in (_exclude(v, filters) for v in value) if x is not _MISSING]
    return value


def apply_filter_path(obj, filter_path):
    """Filter a JSON value the way ES applies `?filter_path=` to a response."""
    if filter_path is None:
        return obj
    exprs = [e.strip() for e in filter_path.split(",") if e.strip()]
    incl = [_split_path(e) for e in exprs if not e.startswith("-")]
    excl = [_split_path(e[1:]) for e in exprs if e.startswith("-")]
    result = obj
    if incl:
        result = _include(result, incl)
        if result is _MISSING:
            return [] if isinstance(obj, list) else {}
    if excl:
        result = _exclude(result, excl)
        if result is _MISSING:
            return [] if isinstance(obj, list) else {}
    return result


# --------------------------------------------------------------------------------------
# Values ES parses: time values, byte sizes, watermarks
# --------------------------------------------------------------------------------------
class ParseError(Exception):
    pass


_TIME_UNITS = [("nanos", 1e-9), ("micros", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0),
               ("h", 3600.0), ("d", 86400.0)]


def parse_time(name, value):
    """Seconds for an ES time value ("1s", "500ms"); None for -1 (infinite)."""
    v = value.strip().lower()
    if v == "-1":
        return None
    if v == "0":
        return 0.0
    for unit, factor in _TIME_UNITS:
        if v.endswith(unit):
            num = v[: -len(unit)]
            try:
                n = float(num)
            except ValueError:
                break
            if n < 0:
                break
            return n * factor
    raise ParseError(f"failed to parse setting [{name}] with value [{value}] as a time value: "
                     f"unit is missing or unrecognized")


_BYTE_UNITS = {"b": 1, "kb": 1024, "mb": MB, "gb": GB, "tb": TB, "pb": 1024 ** 5}


def parse_bytes(value):
    v = value.strip().lower()
    if v == "-1":
        return -1
    m = re.fullmatch(r"([0-9.]+)\s*(b|kb|mb|gb|tb|pb)", v)
    if not m:
        raise ValueError(value)
    return int(float(m.group(1)) * _BYTE_UNITS[m.group(2)])


def watermark_free_threshold(watermark, max_headroom, total):
    """Free-byte threshold below which a watermark fires (ES 8 semantics)."""
    w = watermark.strip()
    if w.endswith("%") or re.fullmatch(r"[0-9]*\.[0-9]+|[01]", w):
        used_ratio = float(w[:-1]) / 100.0 if w.endswith("%") else float(w)
        threshold = total * (1.0 - used_ratio)
        if max_headroom is not None and max_headroom >= 0:
            threshold = min(threshold, max_headroom)
        return threshold
    return parse_bytes(w)  # absolute: minimum free space, no headroom


def human_bytes(n):
    for unit, factor in (("tb", TB), ("gb", GB), ("mb", MB), ("kb", 1024)):
        if n >= factor:
            return f"{n / factor:.1f}{unit}"
    return f"{n}b"


# --------------------------------------------------------------------------------------
# Scenario model
# --------------------------------------------------------------------------------------
BASE_CONFIG = {
    "status": "green",
    "heap_percent": 45,
    "heap_max_bytes": 2 * GB,  # ClearML's compose runs ES with -Xmx2g
    "disk_total_bytes": 100 * GB,
    "disk_available_bytes": 60 * GB,
    "disk_reserved_bytes": 0,   # free_in_bytes - available_in_bytes
    "watermarks": None,         # None = ES defaults; or {"low":..,"high":..,"flood_stage":..}
    "watermark_source": "persistent",  # persistent | transient | node (elasticsearch.yml/env)
    "max_headroom": None,       # explicit {"low":..,"high":..,"flood_stage":..} values
    "blocked_indices": [],
    "fault": None,              # auth | 503 | garbage | hang
    "user": "elastic",
    "password": "changeme",
    "rejections_per_call": 0,
    "write_queue": 0,        # writes waiting in the write thread pool (nodes stats thread_pool.write.queue)
    "wait_for_master": False,   # 503: wait master_timeout (default 30s) before answering
}

SCENARIOS = {
    "green": {},
    "yellow": {"status": "yellow"},
    "red": {"status": "red"},
    "heap85": {"heap_percent": 85},
    "heap95": {"heap_percent": 95},
    # default watermarks (95% / 100GB headroom) on a 200GB disk: min(10GB, 100GB) = 10GB, 8GB free
    "disk_percent": {"disk_total_bytes": 200 * GB, "disk_available_bytes": 8 * GB},
    # ClearML's compose: all watermarks 500mb (node settings), 300MB free
    "disk_absolute": {"watermarks": {"low": "500mb", "high": "500mb", "flood_stage": "500mb"},
                      "watermark_source": "node",
                      "disk_total_bytes": 50 * GB, "disk_available_bytes": 300 * MB},
    # 4TB disk, 150GB free (96.3% used): the percentage alone would fire, the headroom does not
    "disk_ok_large": {"disk_total_bytes": 4 * TB, "disk_available_bytes": 150 * GB},
    "readonly": {"blocked_indices": [f"events-log-{COMPANY}"]},
    "rejections": {"rejections_per_call": 5},
    # indexing falls behind: writes pile up in the queue (all 2 threads busy) before any is rejected
    "write_queue": {"write_queue": 500},
    "auth": {"fault": "auth"},
    "503": {"fault": "503"},
    "garbage": {"fault": "garbage"},
    "hang": {"fault": "hang"},
    "restart": {},
}

PARAM_ALIASES = {  # scenario params -> config keys
    "heap_percent": "heap_percent", "heap_max_bytes": "heap_max_bytes",
    "disk_total_bytes": "disk_total_bytes", "disk_available_bytes": "disk_available_bytes",
    "disk_reserved_bytes": "disk_reserved_bytes", "watermarks": "watermarks",
    "watermark_source": "watermark_source", "max_headroom": "max_headroom",
    "blocked_indices": "blocked_indices", "user": "user", "password": "password",
    "amount": "rejections_per_call", "rejections_per_call": "rejections_per_call",
    "status": "status", "wait_for_master": "wait_for_master", "write_queue": "write_queue",
}

STATUS_RANK = {"green": 0, "yellow": 1, "red": 2}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.node_id = _es_id()
        self.cluster_uuid = _es_id()
        self.index_uuids = {name: _es_id() for name in CLEARML_INDICES}
        self.requests = []
        self.reset()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.scenario = "green"
            self.config = copy.deepcopy(BASE_CONFIG)
            self.start_ms = int(time.time() * 1000) - 3 * 86400 * 1000  # up for 3 days
            self.write_rejected = 0
            self.write_completed = 123456
            self.hang_generation = getattr(self, "hang_generation", 0) + 1

    def set_scenario(self, body):
        name = body.get("scenario", "green")
        if name not in SCENARIOS:
            raise ValueError(f"unknown scenario {name!r}; known: {sorted(SCENARIOS)}")
        cfg = copy.deepcopy(BASE_CONFIG)
        cfg.update(copy.deepcopy(SCENARIOS[name]))
        for k, v in body.items():
            if k == "scenario":
                continue
            if k in ("uptime_ms", "wipe"):
                continue
            if k not in PARAM_ALIASES:
                raise ValueError(f"unknown parameter {k!r}; known: {sorted(PARAM_ALIASES)}"
                                 " + uptime_ms, wipe")
            cfg[PARAM_ALIASES[k]] = v
        if cfg["status"] not in STATUS_RANK:
            raise ValueError("status must be green, yellow or red")
        if cfg["watermark_source"] not in ("persistent", "transient", "node"):
            raise ValueError("watermark_source must be persistent, transient or node")
        with self.lock:
            self.scenario = name
            self.config = cfg
            self.hang_generation += 1  # release requests hanging under the previous scenario
            now = int(time.time() * 1000)
            if name == "restart":
                self.start_ms = now - int(body.get("uptime_ms", 5000))
                self.write_rejected = 0
                self.write_completed = 0
                if body.get("wipe"):
                    self.cluster_uuid = _es_id()
                    self.node_id = _es_id()
            elif "uptime_ms" in body:
                self.start_ms = now - int(body["uptime_ms"])
        return self.describe()

    def describe(self):
        return {"scenario": self.scenario, "config": self.config, "node_id": self.node_id,
                "cluster_uuid": self.cluster_uuid}

    # ---- derived views -------------------------------------------------------------
    def cluster_settings(self):
        """(persistent, transient, node) flat settings maps."""
        cfg = self.config
        persistent, transient, node = {}, {}, {"cluster.name": "clearml"}
        target = {"persistent": persistent, "transient": transient, "node": node}[
            cfg["watermark_source"]]
        for level, value in (cfg["watermarks"] or {}).items():
            target[f"cluster.routing.allocation.disk.watermark.{level}"] = value
        for level, value in (cfg["max_headroom"] or {}).items():
            target[f"cluster.routing.allocation.disk.watermark.{level}.max_headroom"] = value
        return persistent, transient, node

    def default_settings(self, node):
        """ES's include_defaults view: node settings, else built-in defaults (computed from node
        settings only, as ES does: a max_headroom default is -1 once its watermark is set)."""
        wm = "cluster.routing.allocation.disk.watermark."
        builtin = {"low": ("85%", "200GB"), "high": ("90%", "150GB"), "flood_stage": ("95%", "100GB")}
        d = {
            "cluster.name": "elasticsearch",
            "cluster.info.update.interval": "30s",
            "cluster.routing.allocation.disk.threshold_enabled": "true",
            "cluster.routing.allocation.disk.reroute_interval": "60s",
            wm + "enable_for_single_data_node": "true",
            wm + "flood_stage.frozen": "95%",
            wm + "flood_stage.frozen.max_headroom": "20GB",
        }
        for level, (pct, headroom) in builtin.items():
            d[wm + level] = pct
            d[wm + level + ".max_headroom"] = "-1" if (wm + level) in node else headroom
        d.update(node)
        return d

    def effective_watermarks(self):
        """{level: (watermark, max_headroom_bytes or None)} as ES evaluates them."""
        persistent, transient, node = self.cluster_settings()
        wm = "cluster.routing.allocation.disk.watermark."
        builtin = {"low": ("85%", 200 * GB), "high": ("90%", 150 * GB),
                   "flood_stage": ("95%", 100 * GB)}
        out = {}
        for level, (pct, headroom) in builtin.items():
            key = wm + level
            explicit = None
            for src in (persistent, transient, node):
                if key in src:
                    explicit = src[key]
                    break
            hkey = key + ".max_headroom"
            hexplicit = None
            for src in (persistent, transient, node):
                if hkey in src:
                    hexplicit = src[hkey]
                    break
            if hexplicit is not None:
                hr = parse_bytes(hexplicit)
            else:
                hr = -1 if explicit is not None else headroom
            out[level] = (explicit or pct, None if hr < 0 else hr)
        return out

    def disk_levels(self):
        """Which watermarks the node's disk is past: set of low/high/flood_stage."""
        total = self.config["disk_total_bytes"]
        avail = self.config["disk_available_bytes"]
        past = set()
        for level, (w, hr) in self.effective_watermarks().items():
            if avail < watermark_free_threshold(w, hr, total):
                past.add(level)
        return past

    def blocked(self):
        """Indices carrying index.blocks.read_only_allow_delete (manual or flood stage)."""
        names = list(self.config["blocked_indices"])
        if "flood_stage" in self.disk_levels():
            names = list(CLEARML_INDICES)  # ES blocks every index with a shard on the node
        return names

    def indices(self):
        """[(name, health, primaries, replicas, unassigned primaries, unassigned replicas)]."""
        status = self.config["status"]
        out = []
        for name in CLEARML_INDICES:
            reps, up, ur = 0, 0, 0
            if status == "yellow" and name.startswith("worker_stats"):
                reps, ur = 1, 1
            if status == "red" and name.startswith("events-log"):
                up = 1
            health = "red" if up else ("yellow" if ur else "green")
            out.append((name, health, 1, reps, up, ur))
        return out


STATE = State()


# --------------------------------------------------------------------------------------
# ES HTTP handler
# --------------------------------------------------------------------------------------
COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path", "format"}
NODE_METRICS = {"_all", "adaptive_selection", "allocations", "breaker", "discovery", "fs", "http",
                "indexing_pressure", "indices", "ingest", "jvm", "os", "process", "repositories",
                "script", "script_cache", "thread_pool", "transport"}


class ESError(Exception):
    def __init__(self, status, etype, reason, extra=None, headers=None):
        super().__init__(reason)
        self.status, self.etype, self.reason = status, etype, reason
        self.extra, self.headers = extra or {}, headers or {}

    def body(self):
        cause = {"type": self.etype, "reason": self.reason, **self.extra}
        return {"error": {"root_cause": [dict(cause)], **cause}, "status": self.status}


class RawResponse(Exception):
    def __init__(self, status, body, content_type="application/json", headers=None):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = headers or {}


def _check_params(path_for_msg, params, allowed):
    bad = [p for p in params if p not in allowed and p not in COMMON_PARAMS]
    if bad:
        # ES names them all in one message, sorted
        names = ", ".join(sorted(bad))
        if len(bad) == 1:
            reason = f"request [{path_for_msg}] contains unrecognized parameter: [{names}]"
        else:
            reason = f"request [{path_for_msg}] contains unrecognized parameters: [{names}]"
        raise ESError(400, "illegal_argument_exception", reason)


def _bool_param(params, name, default=False):
    v = params.get(name)
    if v is None:
        return default
    if v in ("", "true"):
        return True
    if v == "false":
        return False
    raise ESError(400, "illegal_argument_exception",
                  f"Failed to parse value [{v}] only [true] or [false] are allowed.")


def _time_param(params, name, default):
    v = params.get(name)
    if v is None:
        return default
    try:
        return parse_time(name, v)
    except ParseError as e:
        raise ESError(400, "parse_exception", str(e))


def _resolve_indices(expr, allow_no_indices=True):
    names = []
    for part in expr.split(","):
        part = part.strip()
        if part in ("_all", "*", ""):
            names.extend(CLEARML_INDICES)
        elif "*" in part:
            names.extend(n for n in CLEARML_INDICES if fnmatch.fnmatchcase(n, part))
        elif part in CLEARML_INDICES:
            names.append(part)
        else:
            raise ESError(404, "index_not_found_exception", f"no such index [{part}]",
                          {"resource.type": "index_or_alias", "resource.id": part,
                           "index_uuid": "_na_", "index": part})
    seen, out = set(), []
    for n in names:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return out


def _nest_settings(flat):
    """Settings.getAsStructuredMap: nest on dots, fall back to dotted keys on conflicts."""
    root = {}

    def process(m, prefix, setting, value):
        i = setting.find(".")
        if i == -1:
            inner = m.get(prefix + setting)
            if isinstance(inner, dict):
                for k, v in inner.items():
                    m[prefix + setting + "." + k] = v
            m[prefix + setting] = value
        else:
            key, rest = setting[:i], setting[i + 1:]
            existing = m.get(prefix + key)
            if existing is None:
                new = {}
                process(new, "", rest, value)
                m[prefix + key] = new
            elif isinstance(existing, dict):
                process(existing, "", rest, value)
            else:
                process(m, prefix + key + ".", rest, value)

    for k in sorted(flat):
        process(root, "", k, flat[k])
    return root


def _settings_view(flat, params):
    return flat if _bool_param(params, "flat_settings") else _nest_settings(flat)


class ESHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "es-double"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # ---------------------------------------------------------------------------------
    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        auth = self.headers.get("Authorization")
        record = {
            "time": time.time(), "method": method, "path": path, "query": parts.query,
            "params": params, "uri": self.path,
            "headers": {k: ("<masked>" if k.lower() in ("authorization", "cookie") else v)
                        for k, v in self.headers.items()},
            "auth_user": _basic_user(auth), "status": None,
        }
        with STATE.lock:
            record["seq"] = len(STATE.requests)
            STATE.requests.append(record)
            scenario, cfg = STATE.scenario, copy.deepcopy(STATE.config)
            generation = STATE.hang_generation
        record["scenario"] = scenario
        fault = cfg["fault"]
        if fault == "hang":
            self._hang(generation)
            return
        try:
            if fault == "auth":
                self._check_auth(cfg, auth)
            if fault == "garbage":
                raise RawResponse(200, b"<html><body><h1>It works!</h1>\x00\xff garbage",
                                  "text/html")
            status, body = self._route(method, path, params, cfg)
            ctype = "application/json"
            if isinstance(body, (bytes, str)):
                ctype = "text/plain; charset=UTF-8"
                data = body.encode() if isinstance(body, str) else body
            else:
                body = apply_filter_path(body, params.get("filter_path"))
                data = self._json(body, params)
            self._send(status, data, ctype, method, record)
        except ESError as e:
            headers = dict(e.headers)
            self._send(e.status, self._json(e.body(), params), "application/json", method,
                       record, headers)
        except RawResponse as r:
            self._send(r.status, r.body if isinstance(r.body, bytes) else self._json(r.body, params),
                       r.content_type, method, record, r.headers)

    def _json(self, obj, params):
        if _pretty(params):
            return (json.dumps(obj, indent=2) + "\n").encode()
        return json.dumps(obj, separators=(",", ":")).encode()

    def _send(self, status, data, ctype, method, record, headers=None):
        record["status"] = status
        self.send_response(status)
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("content-type", ctype)
        for k, v in (headers or {}).items():
            for item in (v if isinstance(v, list) else [v]):
                self.send_header(k, item)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def _hang(self, generation):
        """Accept the request and never answer; give up when the client leaves, the scenario
        changes or the double stops."""
        def released():
            with STATE.lock:
                return STATE.hang_generation != generation

        double_support.hang(self, released)

    def _check_auth(self, cfg, auth):
        hdrs = {"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"', "ApiKey"]}
        extra = {"header": {"WWW-Authenticate": hdrs["WWW-Authenticate"]}}
        user = _basic_user(auth)
        if user is None:
            raise ESError(401, "security_exception",
                          f"missing authentication credentials for REST request [{self.path}]",
                          extra, hdrs)
        try:
            decoded = base64.b64decode(auth.split(None, 1)[1]).decode()
        except Exception:
            decoded = ""
        if decoded != f"{cfg['user']}:{cfg['password']}":
            raise ESError(401, "security_exception",
                          f"unable to authenticate user [{user}] for REST request [{self.path}]",
                          extra, hdrs)

    # ---------------------------------------------------------------------------------
    def _route(self, method, path, params, cfg):
        segs = [s for s in path.split("/") if s]
        if method not in ("GET", "HEAD"):
            if path == "/" or (segs and segs[0].startswith("_")):
                raise RawResponse(405, {"error": f"Incorrect HTTP method for uri [{self.path}] and "
                                                 f"method [{method}], allowed: [GET, HEAD]",
                                        "status": 405},
                                  headers={"Allow": "GET,HEAD"})
        master_needed = not (segs == [] or segs[:1] == ["_nodes"] or segs[:1] == ["_health_report"])
        if cfg["fault"] == "503" and master_needed:
            if cfg["wait_for_master"]:
                wait = _time_param(params, "master_timeout", 30.0)
                SHUTDOWN.wait(30.0 if wait is None else wait)
            raise ESError(503, "master_not_discovered_exception", None)
        if not segs:
            _check_params(path, params, set())
            return 200, self._root()
        if segs[0] == "_cluster" and len(segs) >= 2 and segs[1] == "health" and len(segs) <= 3:
            return self._health(path, params, segs[2] if len(segs) == 3 else None)
        if segs == ["_cluster", "settings"]:
            _check_params(path, params, {"flat_settings", "include_defaults", "master_timeout",
                                         "timeout", "local"})
            return 200, self._cluster_settings(params)
        if segs[0] == "_nodes":
            return self._nodes_stats(path, segs, params, cfg)
        if segs[0] == "_cat" and len(segs) >= 2 and segs[1] == "indices" and len(segs) <= 3:
            return self._cat_indices(path, params, segs[2] if len(segs) == 3 else None)
        if segs[0] == "_health_report" and len(segs) <= 2:
            _check_params(path, params, {"verbose", "size", "timeout"})
            return 200, self._health_report(cfg, segs[1] if len(segs) == 2 else None, params)
        if "_settings" in segs:
            i = segs.index("_settings")
            if i <= 1 and len(segs) - i <= 2:
                index_expr = segs[0] if i == 1 else "_all"
                name = segs[i + 1] if len(segs) > i + 1 else None
                _check_params(path, params, {"flat_settings", "include_defaults", "local",
                                             "master_timeout", "ignore_unavailable",
                                             "allow_no_indices", "expand_wildcards"})
                return 200, self._index_settings(index_expr, name, params)
        raise RawResponse(400, {"error": f"no handler found for uri [{self.path}] and method "
                                         f"[{method}]"})

    def _root(self):
        return {
            "name": "clearml-es01",
            "cluster_name": "clearml",
            "cluster_uuid": STATE.cluster_uuid,
            "version": {
                "number": "8.17.0",
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "2b6a7fed44faa321997703718f07ee0420804b41",
                "build_date": "2024-12-11T12:08:05.663969764Z",
                "build_snapshot": False,
                "lucene_version": "9.12.0",
                "minimum_wire_compatibility_version": "7.17.0",
                "minimum_index_compatibility_version": "7.0.0",
            },
            "tagline": "You Know, for Search",
        }

    def _health_body(self, level, index_expr):
        with STATE.lock:
            indices = STATE.indices()
        if index_expr:
            wanted = set(_resolve_indices(index_expr))
            indices = [i for i in indices if i[0] in wanted]
        pri = sum(i[2] for i in indices)
        total = sum(i[2] * (1 + i[3]) for i in indices)
        up = sum(i[4] for i in indices)
        ur = sum(i[5] for i in indices)
        active = total - up - ur
        status = "green"
        for i in indices:
            if STATUS_RANK[i[1]] > STATUS_RANK[status]:
                status = i[1]
        body = {
            "cluster_name": "clearml",
            "status": status,
            "timed_out": False,
            "number_of_nodes": 1,
            "number_of_data_nodes": 1,
            "active_primary_shards": pri - up,
            "active_shards": active,
            "relocating_shards": 0,
            "initializing_shards": 0,
            "unassigned_shards": up + ur,
            "unassigned_primary_shards": up,
            "delayed_unassigned_shards": 0,
            "number_of_pending_tasks": 0,
            "number_of_in_flight_fetch": 0,
            "task_max_waiting_in_queue_millis": 0,
            "active_shards_percent_as_number": (100.0 * active / total) if total else 100.0,
        }
        if level in ("indices", "shards"):
            body["indices"] = {
                name: {"status": h, "number_of_shards": p, "number_of_replicas": r,
                       "active_primary_shards": p - a, "active_shards": p * (1 + r) - a - b,
                       "relocating_shards": 0, "initializing_shards": 0,
                       "unassigned_shards": a + b, "unassigned_primary_shards": a}
                for (name, h, p, r, a, b) in indices}
        return body

    def _health(self, path, params, index_expr):
        _check_params(path, params, {"level", "local", "master_timeout", "timeout",
                                     "wait_for_active_shards", "wait_for_nodes", "wait_for_events",
                                     "wait_for_no_relocating_shards",
                                     "wait_for_no_initializing_shards", "wait_for_status",
                                     "expand_wildcards", "allow_no_indices", "ignore_unavailable"})
        level = params.get("level", "cluster")
        if level not in ("cluster", "indices", "shards"):
            raise ESError(400, "illegal_argument_exception",
                          f"level must be one of [cluster, indices, shards] but was [{level}]")
        timeout = _time_param(params, "timeout", 30.0)
        _time_param(params, "master_timeout", 30.0)
        want = params.get("wait_for_status")
        if want is not None:
            want = want.lower()
            if want not in STATUS_RANK:
                raise ESError(400, "illegal_argument_exception",
                              f"No cluster health status for value [{want}]")
        body = self._health_body(level, index_expr)
        if want is None:
            return 200, body
        deadline = None if timeout is None else time.monotonic() + timeout
        while STATUS_RANK[body["status"]] > STATUS_RANK[want]:
            if deadline is not None and time.monotonic() >= deadline:
                body["timed_out"] = True
                return 408, body
            if SHUTDOWN.wait(0.02):
                break
            body = self._health_body(level, index_expr)
        return 200, body

    def _cluster_settings(self, params):
        with STATE.lock:
            persistent, transient, node = STATE.cluster_settings()
            defaults = STATE.default_settings(node)
        for k in list(persistent) + list(transient):
            defaults.pop(k, None)
        out = {"persistent": _settings_view(persistent, params),
               "transient": _settings_view(transient, params)}
        if _bool_param(params, "include_defaults"):
            out["defaults"] = _settings_view(defaults, params)
        return out

    def _nodes_stats(self, path, segs, params, cfg):
        # /_nodes/stats[/{metric}], /_nodes/{node_id}/stats[/{metric}]
        if len(segs) >= 2 and segs[1] == "stats":
            node_filter, metric_segs = "_all", segs[2:]
        elif len(segs) >= 3 and segs[2] == "stats":
            node_filter, metric_segs = segs[1], segs[3:]
        else:
            raise RawResponse(400, {"error": f"no handler found for uri [{self.path}] and method "
                                             f"[GET]"})
        if len(metric_segs) > 2:
            raise RawResponse(400, {"error": f"no handler found for uri [{self.path}] and method "
                                             f"[GET]"})
        _check_params(path, params, {"completion_fields", "fielddata_fields", "fields", "groups",
                                     "level", "types", "timeout", "include_segment_file_sizes",
                                     "include_unloaded_segments"})
        _time_param(params, "timeout", None)
        metrics = set(metric_segs[0].split(",")) if metric_segs else {"_all"}
        bad = sorted(m for m in metrics if m not in NODE_METRICS)
        if bad:
            word = "metric" if len(bad) == 1 else "metrics"
            raise ESError(400, "illegal_argument_exception",
                          f"request [{path}] contains unrecognized {word}: [{', '.join(bad)}]")
        if "_all" in metrics:
            if len(metrics) > 1:
                raise ESError(400, "illegal_argument_exception",
                              f"request [{path}] contains _all and individual metrics "
                              f"[{','.join(sorted(metrics))}]")
            metrics = {"jvm", "fs", "thread_pool", "os", "process"}
        now = int(time.time() * 1000)
        with STATE.lock:
            if "thread_pool" in metrics:
                STATE.write_rejected += cfg["rejections_per_call"]
                STATE.write_completed += 17
            node_id, start_ms = STATE.node_id, STATE.start_ms
            rejected, completed = STATE.write_rejected, STATE.write_completed
        names = set(node_filter.split(","))
        match = bool(names & {"_all", "_local", "_master", "*", node_id, "clearml-es01"})
        node = {
            "timestamp": now, "name": "clearml-es01", "transport_address": "172.18.0.3:9300",
            "host": "172.18.0.3", "ip": "172.18.0.3:9300",
            "roles": ["data", "data_cold", "data_content", "data_frozen", "data_hot", "data_warm",
                      "ingest", "master", "ml", "remote_cluster_client", "transform"],
            "attributes": {"ml.machine_memory": str(8 * GB), "ml.allocated_processors": "2",
                           "xpack.installed": "true", "ml.max_jvm_size": str(cfg["heap_max_bytes"]),
                           "transform.config_version": "10.0.0"},
        }
        if "jvm" in metrics:
            hmax = int(cfg["heap_max_bytes"])
            used = -(-hmax * int(cfg["heap_percent"]) // 100)  # ceil: ES floors the percent
            node["jvm"] = {
                "timestamp": now, "uptime_in_millis": now - start_ms,
                "mem": {"heap_used_in_bytes": used, "heap_used_percent": int(cfg["heap_percent"]),
                        "heap_committed_in_bytes": hmax, "heap_max_in_bytes": hmax,
                        "non_heap_used_in_bytes": 180 * MB, "non_heap_committed_in_bytes": 190 * MB,
                        "pools": {
                            "young": {"used_in_bytes": used // 4, "max_in_bytes": 0,
                                      "peak_used_in_bytes": hmax // 2, "peak_max_in_bytes": 0},
                            "old": {"used_in_bytes": used - used // 4, "max_in_bytes": hmax,
                                    "peak_used_in_bytes": used, "peak_max_in_bytes": hmax},
                            "survivor": {"used_in_bytes": 0, "max_in_bytes": 0,
                                         "peak_used_in_bytes": 8 * MB, "peak_max_in_bytes": 0}}},
                "threads": {"count": 71, "peak_count": 74},
                "gc": {"collectors": {
                    "young": {"collection_count": 120, "collection_time_in_millis": 900},
                    "G1 Concurrent GC": {"collection_count": 10, "collection_time_in_millis": 40},
                    "old": {"collection_count": 0, "collection_time_in_millis": 0}}},
                "buffer_pools": {"mapped": {"count": 40, "used_in_bytes": 10 * MB,
                                            "total_capacity_in_bytes": 10 * MB},
                                 "direct": {"count": 20, "used_in_bytes": 4 * MB,
                                            "total_capacity_in_bytes": 4 * MB}},
                "classes": {"current_loaded_count": 30000, "total_loaded_count": 30100,
                            "total_unloaded_count": 100},
            }
        if "fs" in metrics:
            total = int(cfg["disk_total_bytes"])
            avail = int(cfg["disk_available_bytes"])
            free = avail + int(cfg["disk_reserved_bytes"])
            fsbytes = {"total_in_bytes": total, "free_in_bytes": free, "available_in_bytes": avail}
            node["fs"] = {
                "timestamp": now, "total": dict(fsbytes),
                "data": [{"path": "/usr/share/elasticsearch/data", "mount": "/ (overlay)",
                          "type": "overlay", **fsbytes}],
                "io_stats": {},
            }
        if "thread_pool" in metrics:
            def pool(threads, active=0, queue=0, rej=0, largest=None, done=0):
                return {"threads": threads, "queue": queue, "active": active, "rejected": rej,
                        "largest": threads if largest is None else largest, "completed": done}
            node["thread_pool"] = {
                "analyze": pool(0), "fetch_shard_started": pool(0), "fetch_shard_store": pool(0),
                "flush": pool(1, done=40), "force_merge": pool(0), "generic": pool(8, done=9000),
                "get": pool(2, done=500), "management": pool(2, active=1, done=20000),
                "refresh": pool(1, done=80000), "search": pool(4, done=7000),
                "search_coordination": pool(1, done=10), "search_throttled": pool(0),
                "snapshot": pool(0), "snapshot_meta": pool(0), "system_critical_read": pool(1),
                "system_critical_write": pool(1), "system_read": pool(1, done=300),
                "system_write": pool(1, done=30), "warmer": pool(1, done=50),
                "write": pool(2, active=2 if cfg["write_queue"] else 0, queue=int(cfg["write_queue"]),
                              rej=rejected, done=completed),
            }
        if "os" in metrics:
            node["os"] = {"timestamp": now, "cpu": {"percent": 3, "load_average":
                                                    {"1m": 0.2, "5m": 0.3, "15m": 0.3}},
                          "mem": {"total_in_bytes": 8 * GB, "free_in_bytes": 2 * GB,
                                  "used_in_bytes": 6 * GB, "free_percent": 25, "used_percent": 75}}
        if "process" in metrics:
            node["process"] = {"timestamp": now, "open_file_descriptors": 400,
                               "max_file_descriptors": 1048576,
                               "cpu": {"percent": 1, "total_in_millis": 600000},
                               "mem": {"total_virtual_in_bytes": 10 * GB}}
        nodes = {node_id: node} if match else {}
        return 200, {"_nodes": {"total": len(nodes), "successful": len(nodes), "failed": 0},
                     "cluster_name": "clearml", "nodes": nodes}

    def _index_settings(self, index_expr, name, params):
        with STATE.lock:
            blocked = set(STATE.blocked())
            indices = STATE.indices()
        wanted = _resolve_indices(index_expr)
        patterns = [p for p in (name.split(",") if name else []) if p]
        out = {}
        for (iname, _h, pri, rep, _a, _b) in indices:
            if iname not in wanted:
                continue
            flat = {
                "index.creation_date": "1764201600000",
                "index.number_of_replicas": str(rep),
                "index.number_of_shards": str(pri),
                "index.provided_name": iname,
                "index.routing.allocation.include._tier_preference": "data_content",
                "index.uuid": STATE.index_uuids[iname],
                "index.version.created": "8521000",
            }
            if iname in blocked:
                flat["index.blocks.read_only_allow_delete"] = "true"
            if patterns:
                flat = {k: v for k, v in flat.items()
                        if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
            if not flat:
                continue  # ES skips indices with no (matching) settings
            out[iname] = {"settings": _settings_view(flat, params)}
        return out

    def _cat_indices(self, path, params, index_expr):
        _check_params(path, params, {"format", "h", "help", "s", "v", "bytes", "time", "health",
                                     "pri", "expand_wildcards", "include_unloaded_segments",
                                     "master_timeout", "local"})
        with STATE.lock:
            indices = STATE.indices()
        wanted = _resolve_indices(index_expr or "_all")
        rows = []
        for (name, health, pri, rep, up, _ur) in indices:
            if name not in wanted:
                continue
            if "health" in params and params["health"] != health:
                continue
            docs = None if up else str(1000 + len(name))
            size = None if up else human_bytes(5 * MB + len(name) * 1000)
            rows.append({"health": health, "status": "open", "index": name,
                         "uuid": STATE.index_uuids[name], "pri": str(pri), "rep": str(rep),
                         "docs.count": docs, "docs.deleted": None if up else "0",
                         "store.size": size, "pri.store.size": size, "dataset.size": size})
        aliases = {"h": "health", "s": "status", "i": "index", "idx": "index", "id": "uuid",
                   "p": "pri", "shards.primary": "pri", "shardsPrimary": "pri", "r": "rep",
                   "shards.replica": "rep", "shardsReplica": "rep", "dc": "docs.count",
                   "docsCount": "docs.count", "dd": "docs.deleted", "docsDeleted": "docs.deleted",
                   "ss": "store.size", "storeSize": "store.size"}
        columns = ["health", "status", "index", "uuid", "pri", "rep", "docs.count",
                   "docs.deleted", "store.size", "pri.store.size", "dataset.size"]
        if params.get("h"):
            chosen = []
            for c in params["h"].split(","):
                c = aliases.get(c.strip(), c.strip())
                chosen.extend(x for x in columns if fnmatch.fnmatchcase(x, c) and x not in chosen)
            columns = chosen
        if params.get("s"):
            for key in reversed(params["s"].split(",")):
                col, _, order = key.partition(":")
                col = aliases.get(col, col)
                rows.sort(key=lambda r: r.get(col) or "", reverse=(order == "desc"))
        rows = [{c: r[c] for c in columns} for r in rows]
        fmt = params.get("format", "text")
        if fmt == "json":
            return 200, rows
        if fmt != "text":
            raise ESError(400, "illegal_argument_exception",
                          f"Unsupported format [{fmt}] in the double (json and text only)")
        widths = {c: max([len(c) if "v" in params else 0] + [len(r[c] or "") for r in rows])
                  for c in columns}
        lines = []
        if "v" in params:
            lines.append(" ".join(c.ljust(widths[c]) for c in columns).rstrip())
        for r in rows:
            lines.append(" ".join((r[c] or "").ljust(widths[c]) for c in columns).rstrip())
        return 200, "".join(line + "\n" for line in lines)

    def _health_report(self, cfg, feature, params):
        verbose = _bool_param(params, "verbose", True)
        with STATE.lock:
            levels = STATE.disk_levels()
            blocked = STATE.blocked()
            indices = STATE.indices()
        up = sum(i[4] for i in indices)
        ur = sum(i[5] for i in indices)
        master_ok = cfg["fault"] != "503"
        ind = {}
        ind["master_is_stable"] = (
            {"status": "green", "symptom": "The cluster has a stable master node"} if master_ok else
            {"status": "red", "symptom": "No master node observed in the last 30s, and the cause "
                                         "could not be determined.",
             "impacts": [{"id": "elasticsearch:health:master_is_stable:impact:ingest",
                          "severity": 1, "description": "The cluster cannot create, delete, or "
                          "rebalance indices, and cannot insert or update documents.",
                          "impact_areas": ["ingest"]}]})
        ind["repository_integrity"] = {"status": "green",
                                       "symptom": "No snapshot repositories configured."}
        n_blocked = len(blocked)
        if n_blocked or "flood_stage" in levels:
            disk = {"status": "red",
                    "symptom": f"{n_blocked} indices are not allowed to be updated. "
                               f"1 node is out of disk or running low on disk space.",
                    "impacts": [{"id": "elasticsearch:health:disk:impact:ingest_capability_"
                                       "unavailable", "severity": 1,
                                 "description": "Cannot insert or update documents in the "
                                                "affected indices.",
                                 "impact_areas": ["ingest"]}]}
        elif "high" in levels:
            disk = {"status": "yellow", "symptom": "1 node is running low on disk space and is "
                                                   "close to running out of disk space."}
        else:
            disk = {"status": "green", "symptom": "The cluster has enough available disk space."}
        disk["details"] = {"indices_with_readonly_block": n_blocked,
                           "nodes_with_enough_disk_space": 0 if levels else 1,
                           "nodes_with_unknown_disk_status": 0,
                           "nodes_over_high_watermark": 1 if ("high" in levels and
                                                              "flood_stage" not in levels) else 0,
                           "nodes_over_flood_stage_watermark": 1 if "flood_stage" in levels else 0}
        ind["disk"] = disk
        ind["shards_capacity"] = {"status": "green",
                                  "symptom": "The cluster has enough room to add new shards.",
                                  "details": {"data": {"max_shards_in_cluster": 1000},
                                              "frozen": {"max_shards_in_cluster": 0}}}
        if up:
            sa = {"status": "red", "symptom": f"This cluster has {up} unavailable primary shard"
                                              f"{'s' if up > 1 else ''}."}
        elif ur:
            sa = {"status": "yellow", "symptom": f"This cluster has {ur} unavailable replica shard"
                                                 f"{'s' if ur > 1 else ''}."}
        else:
            sa = {"status": "green", "symptom": "This cluster has all shards available."}
        sa["details"] = {"unassigned_primaries": up, "unassigned_replicas": ur,
                         "started_primaries": len(indices) - up,
                         "started_replicas": 0, "initializing_primaries": 0,
                         "initializing_replicas": 0, "restarting_primaries": 0,
                         "restarting_replicas": 0, "creating_primaries": 0,
                         "creating_replicas": 0}
        ind["shards_availability"] = sa
        ind["data_stream_lifecycle"] = {"status": "green", "symptom": "No data stream lifecycle "
                                                                      "health data available yet."}
        ind["ilm"] = {"status": "green", "symptom": "Index Lifecycle Management is running"}
        ind["slm"] = {"status": "green",
                      "symptom": "No Snapshot Lifecycle Management policies configured"}
        if not verbose:
            for v in ind.values():
                v.pop("details", None)
        if feature is not None:
            if feature not in ind:
                raise ESError(404, "resource_not_found_exception",
                              f"Did not find indicator {feature}")
            ind = {feature: ind[feature]}
        worst = "green"
        for v in ind.values():
            if STATUS_RANK[v["status"]] > STATUS_RANK[worst]:
                worst = v["status"]
        body = {"cluster_name": "clearml", "indicators": ind}
        if feature is None:
            body = {"status": worst, **body}
        return body


def _pretty(params):
    v = params.get("pretty")
    return v is not None and v != "false"


def _basic_user(auth):
    if not auth or not auth.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(auth.split(None, 1)[1]).decode().split(":", 1)[0]
    except Exception:
        return "<undecodable>"


# --------------------------------------------------------------------------------------
# Control server
# --------------------------------------------------------------------------------------
class ControlHandler(ScenarioControlHandler):
    state = STATE
    scenarios = SCENARIOS


# --------------------------------------------------------------------------------------
def serve(port, control_port, scenario, stdin_watch):
    es = double_support.serve(port, ESHandler)
    ctl = double_support.serve(control_port, ControlHandler)
    if scenario != "green":
        STATE.set_scenario({"scenario": scenario})
    run_until_exit({"es": es.server_address[1], "control": ctl.server_address[1]}, stdin_watch)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--scenario", default="green", choices=sorted(SCENARIOS))
    ap.add_argument("--no-stdin-watch", action="store_true",
                    help="do not exit when stdin closes (for manual runs)")
    a = ap.parse_args()
    serve(a.port, a.control_port, a.scenario, not a.no_stdin_watch)


if __name__ == "__main__":
    main()
