"""docker-compose.yml: valid for the real compose client, safe ports, health-gated start order."""

from __future__ import annotations

from promlib.names import BOT_JOB, WORKER_JOB
from tests.unit.test_compose_support import (
    REQUIRED_ENV,
    ROOT,
    bind_mounts,
    load_yaml,
    rendered_compose,
    run_compose,
)

EXPECTED_SERVICES = {
    "bot",
    "worker",
    "redis",
    "otel-collector",
    "jaeger",
    "prometheus",
    "alertmanager",
    "grafana",
}


def test_compose_client_accepts_the_file() -> None:
    """`docker compose config` resolves the file without error when the secrets are given."""
    result = run_compose("config", "--quiet", env=REQUIRED_ENV)
    assert result.returncode == 0, result.stderr


def test_stack_has_every_service() -> None:
    assert set(rendered_compose()["services"]) == EXPECTED_SERVICES


def test_missing_secret_fails_fast_naming_the_variable() -> None:
    for variable in REQUIRED_ENV:
        env = {k: v for k, v in REQUIRED_ENV.items() if k != variable}
        result = run_compose("config", "--quiet", env=env)
        assert result.returncode != 0, f"compose accepted a missing {variable}"
        assert f"{variable} is required" in result.stderr


def test_every_published_port_is_bound_to_loopback() -> None:
    published = 0
    for name, service in rendered_compose()["services"].items():
        for port in service.get("ports", []):
            published += 1
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} beyond loopback"
    assert published >= 5


def test_start_order_waits_for_health_where_a_health_check_exists() -> None:
    services = rendered_compose()["services"]
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            has_check = "healthcheck" in services[dependency]
            expected = "service_healthy" if has_check else "service_started"
            assert how["condition"] == expected, f"{name} -> {dependency}: {how['condition']}"
    assert services["bot"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_services_with_a_shell_have_health_checks() -> None:
    """Only the distroless collector and Jaeger images go without (they have no shell or wget)."""
    services = rendered_compose()["services"]
    for name in EXPECTED_SERVICES - {"otel-collector", "jaeger"}:
        assert "healthcheck" in services[name], f"{name} has no health check"


def test_bot_and_worker_serve_metrics_on_their_ports_for_prometheus() -> None:
    services = rendered_compose()["services"]
    prometheus = load_yaml("deploy/prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    for service, port, job in (("bot", "9464", BOT_JOB), ("worker", "9465", WORKER_JOB)):
        env = services[service]["environment"]
        assert env["METRICS_HOST"] == "0.0.0.0"
        assert env["METRICS_PORT"] == port
        config = jobs[job]
        targets = [t for sc in config.get("static_configs", []) for t in sc["targets"]]
        targets += [f"{n}:{sd['port']}" for sd in config.get("dns_sd_configs", []) for n in sd["names"]]
        assert targets == [f"{service}:{port}"]


def test_health_checks_ask_the_service_itself_whether_it_is_ready() -> None:
    """The bot's check is its /readyz (database, storage, bot up); the worker's, its heartbeat."""
    services = rendered_compose()["services"]
    assert "http://127.0.0.1:9464/readyz" in " ".join(services["bot"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"]["test"] == ["CMD", "csvbot", "worker", "--check"]


def test_bot_and_worker_send_traces_to_the_collector() -> None:
    services = rendered_compose()["services"]
    collector = load_yaml("telemetry/otel-collector.yaml")
    http_port = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1]
    for name in ("bot", "worker"):
        assert (
            services[name]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
            == f"http://otel-collector:{http_port}"
        )
        assert services[name]["command"][0] == "csvbot"


def test_repository_files_are_mounted_where_the_services_read_them() -> None:
    prometheus = bind_mounts("prometheus")
    assert prometheus["/etc/prometheus/prometheus.yml"] == ROOT / "deploy/prometheus/prometheus.yml"
    assert prometheus["/etc/prometheus/rules"] == ROOT / "alerts/prometheus"
    assert bind_mounts("alertmanager")["/etc/alertmanager/alertmanager.yml"] == (
        ROOT / "deploy/alertmanager/alertmanager.yml"
    )
    assert bind_mounts("otel-collector")["/etc/otelcol/config.yaml"] == ROOT / "telemetry/otel-collector.yaml"
    grafana = bind_mounts("grafana")
    assert grafana["/etc/grafana/provisioning"] == ROOT / "deploy/grafana/provisioning"
    provider = load_yaml("deploy/grafana/provisioning/dashboards/csvbot.yaml")["providers"][0]
    assert grafana[provider["options"]["path"]] == ROOT / "dashboards/json"
    for service in rendered_compose()["services"]:
        for host_path in bind_mounts(service).values():
            assert host_path.exists(), f"{service} mounts missing {host_path}"


def test_prometheus_stores_exemplars_for_trace_links() -> None:
    command = rendered_compose()["services"]["prometheus"]["command"]
    assert "--enable-feature=exemplar-storage" in command


def test_alertmanager_reaches_the_bots_webhook_with_the_bots_token() -> None:
    """The tuning route of alertmanager.yml posts to the bot's receiver with a token file: the
    compose stack must serve that receiver and put the bot's ALERT_WEBHOOK_TOKEN in that file."""
    compose = rendered_compose()
    manager = load_yaml(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")
    [tuning] = [r for r in manager["receivers"] if r["name"] == "csvbot-tuning"]
    [hook] = tuning["webhook_configs"]
    token_file = hook["http_config"]["authorization"]["credentials_file"]
    assert [s["target"] for s in compose["services"]["alertmanager"]["secrets"]] == [token_file]
    [secret] = compose["secrets"].values()
    assert secret["environment"] == "ALERT_WEBHOOK_TOKEN"
    bot = compose["services"]["bot"]
    port = hook["url"].split("//bot:")[1].split("/")[0]
    assert bot["environment"]["ALERT_WEBHOOK_PORT"] == port and port in bot["expose"]
    assert bot["environment"]["ALERT_WEBHOOK_HOST"] == "0.0.0.0"
    assert "ALERT_WEBHOOK_TOKEN" in bot["environment"]
