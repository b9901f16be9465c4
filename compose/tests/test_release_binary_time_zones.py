"""The static release binary (as the image builds it) reads maintenance windows in named time zones.

A `--static-swift-stdlib` binary has no ICU time zone unless internationalization code happens to be linked in, so
the probe reads zones from the system's zone files itself (`ZoneRules`). This runs the real binary: set
CLEARML_PROBE_RELEASE_BINARY to `swift build -c release --static-swift-stdlib --product clearml-probe`'s output."""

from __future__ import annotations

import datetime
import os
import subprocess
import zoneinfo
from pathlib import Path

import pytest

BINARY = os.environ.get("CLEARML_PROBE_RELEASE_BINARY", "")

pytestmark = pytest.mark.skipif(not BINARY, reason="set CLEARML_PROBE_RELEASE_BINARY to the static release build of "
                                                  "clearml-probe (swift build -c release --static-swift-stdlib)")


def validate(tmp_path: Path, alerts: str) -> subprocess.CompletedProcess:
    path = tmp_path / "alerts.yaml"
    path.write_text(alerts)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARML_")}
    return subprocess.run([BINARY, "validate", "--alerts", str(path)], capture_output=True, text=True, timeout=60,
                          env=env, cwd=tmp_path)


def window(name: str, zone: str, start: datetime.datetime, minutes: int) -> str:
    end = start + datetime.timedelta(minutes=minutes)
    day = start.strftime("%a").lower()
    return (f"  - name: {name}\n    reason: test\n    timezone: {zone}\n    weekly:\n"
            f"      - days: [{day}]\n        from: \"{start:%H:%M}\"\n        to: \"{end:%H:%M}\"\n")


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"])
def test_a_weekly_window_in_a_named_zone_is_open_on_that_zones_clock(tmp_path, zone):
    # Python's zoneinfo (an independent reader of the same files) says what the wall clock shows there now.
    now = datetime.datetime.now(zoneinfo.ZoneInfo(zone)).replace(second=0, microsecond=0)
    if now.hour == 0 and now.minute < 5 or now.hour == 23 and now.minute > 50:
        pytest.skip("too close to local midnight for a one-day range")
    # A closed window on the same local day, three hours away (an offset read wrongly by whole hours opens it).
    later = now - datetime.timedelta(hours=3) if now.hour >= 4 else now + datetime.timedelta(hours=3)
    alerts = "maintenance:\n" + window("now", zone, now - datetime.timedelta(minutes=5), 15) + window("later", zone, later, 10)
    result = validate(tmp_path, alerts)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = {line.split(":")[0].strip(): line for line in result.stdout.splitlines() if "maintenance " in line}
    assert f"in {zone} (open now)" in lines["maintenance now"], result.stdout
    assert "open now" not in lines["maintenance later"], result.stdout


def test_an_unknown_zone_is_a_located_error(tmp_path):
    result = validate(tmp_path, "maintenance:\n  - reason: r\n    timezone: Mars/Olympus\n"
                                "    weekly:\n      - days: [sun]\n        from: \"01:00\"\n        to: \"04:00\"\n")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "maintenance[0].timezone: 'Mars/Olympus' is not an IANA time zone" in result.stdout + result.stderr


def test_a_local_start_in_a_named_zone_is_read_on_that_zones_clock(tmp_path):
    # 2026-09-01 18:00 in Berlin is 16:00Z (CEST, +02:00); validate prints instants in UTC.
    result = validate(tmp_path, "maintenance:\n  - name: upgrade\n    reason: r\n    timezone: Europe/Berlin\n"
                                "    start: 2026-09-01 18:00\n    end: 2026-09-01 20:00\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2026-09-01T16:00:00Z to 2026-09-01T18:00:00Z" in result.stdout, result.stdout
