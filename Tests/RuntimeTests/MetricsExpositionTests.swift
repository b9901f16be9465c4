import Foundation
import ProbeCore
import Runtime
import TestSupport
import Testing

@Suite struct MetricsExpositionTests {
    static let promtool = "/usr/bin/promtool"

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: promtool), "needs promtool (Debian package prometheus)"))
    func promtoolAcceptsTheExposition() throws {
        for snapshot in [
            Fixtures.snapshot(),
            Fixtures.snapshot(alerts: AlertSummary(openIncidents: 2, outboxDepth: 1, deadLetters: 4)),
            StatusSnapshot(),
        ] {
            let text = MetricsExposition.render(snapshot, health: HealthVerdict(alive: true, reason: "ok"))
            let (status, output) = try MetricsExpositionLint.run(Self.promtool, ["check", "metrics"], input: text)
            #expect(status == 0, "promtool: \(output)\n\(text)")
            #expect(output.isEmpty || !output.contains("problem"), "\(output)")
        }
    }

    @Test func namesUnitsAndLabels() {
        let text = MetricsExposition.render(
            Fixtures.snapshot(alerts: AlertSummary(openIncidents: 2, outboxDepth: 1, deadLetters: 4)),
            health: HealthVerdict(alive: true, reason: "ok"))
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(
            lines.contains(
                #"clearml_probe_check_status{check="apiserver.ping",layer="application",service="apiserver",target=""} 2"#
            ))
        #expect(lines.contains(#"clearml_probe_check_state{check="apiserver.ping",state="critical",target=""} 1"#))
        #expect(lines.contains(#"clearml_probe_check_state{check="apiserver.ping",state="ok",target=""} 0"#))
        #expect(lines.contains(#"clearml_probe_redis_latency_p99_seconds{check="redis.latency",target=""} 0.0004"#))
        #expect(
            lines.contains(
                #"clearml_probe_elasticsearch_health_heap_used_ratio{check="elasticsearch.health",target=""} 0.81"#))
        #expect(
            lines.contains(
                #"clearml_probe_elasticsearch_health_disk_available_bytes{check="elasticsearch.health",target=""} 5000000000"#
            ))
        #expect(lines.contains("# TYPE clearml_probe_elasticsearch_health_write_rejections_total counter"))
        #expect(
            lines.contains(
                #"clearml_probe_check_http_phase_seconds{check="ingress.routes",phase="first_byte",target="api"} 0.012"#
            ))
        #expect(lines.contains(#"clearml_probe_check_overruns_total{check="apiserver.ping"} 1"#))
        #expect(lines.contains(#"clearml_probe_check_period_seconds{check="apiserver.ping"} 120"#))
        #expect(lines.contains("clearml_probe_cycles_total 42"))
        #expect(lines.contains("clearml_probe_alert_open_incidents 2"))
        #expect(lines.contains("clearml_probe_alert_outbox_depth 1"))
        #expect(lines.contains("clearml_probe_alert_dead_letters 4"))
        #expect(
            lines.contains(
                #"clearml_probe_queues_backlog_waiting_tasks{check="queues.backlog",target="odd \"name\\x\""} 0"#))
        #expect(text.contains("clearml_probe_last_cycle_timestamp_seconds "))
        #expect(text.contains(#"clearml_probe_build_info{instance="probe-test",version=""#))
        // Bounded labels: no free text (summaries, errors) ever becomes a label.
        #expect(!text.contains("refused"))
    }

    @Test func withoutAlertingTheAlertGaugesAreZero() {
        let text = MetricsExposition.render(StatusSnapshot(), health: HealthVerdict(alive: false, reason: "x"))
        #expect(text.contains("clearml_probe_alerting_attached 0\n"))
        #expect(text.contains("clearml_probe_alert_dead_letters 0\n"))
        #expect(text.contains("clearml_probe_scheduler_alive 0\n"))
    }
}
