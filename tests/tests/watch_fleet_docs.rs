//! The fleet outputs of `probe watch` in the docs match what it serves: every query of the
//! Grafana dashboard (`docs/watch/grafana-dashboard.json`) and every expression of the watch
//! alert rules (`probe/REPORTING.md`) names a metric family a real watch's `/metrics` has, and
//! `promtool check rules` accepts every alert rule group of REPORTING.md.

use e2e::report_tools::{http_get, require_tool, Runs};
use e2e::served::Served;
use e2e::watch_events;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The families a real watch serves (its `# TYPE` lines), with their kinds.
async fn served_families(runs: &Runs) -> Vec<(String, String)> {
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    let ca = runs.ca_file();
    let events = runs.path("watch.jsonl");
    let events_arg = events.display().to_string();
    let Served {
        mut child, addr, ..
    } = Served::start(&[
        "watch",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--timeout",
        "5",
        "--listen",
        "127.0.0.1:0",
        "--push-every",
        "1s",
        "--for",
        "60s",
        "--events",
        &events_arg,
    ])
    .await;
    // Wait for a delivered push, so the families have samples as well as their TYPE lines.
    watch_events::wait_for_async(&events, Duration::from_secs(30), watch_events::delivered).await;
    let r = http_get(&addr, "/metrics", Duration::from_secs(5)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .lines()
            .any(|l| l.starts_with("probe_watch_pushes_total{") && !l.ends_with(" 0")),
        "a push delivered, and /metrics does not count it:\n{}",
        r.body
    );
    let metrics = r.body;
    child.kill().await.unwrap();
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let (name, kind) = l.split_once(' ')?;
            Some((name.to_string(), kind.to_string()))
        })
        .collect()
}

/// The metric names a PromQL expression uses: its identifiers that start with `probe_`.
fn probe_names(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| t.starts_with("probe_"))
        .map(str::to_string)
        .collect()
}

/// The names of `expr` that no served family answers to (a histogram answers to its
/// `_bucket`, `_sum` and `_count` series).
fn unserved(expr: &str, families: &[(String, String)]) -> Vec<String> {
    probe_names(expr)
        .into_iter()
        .filter(|name| {
            !families.iter().any(|(family, kind)| {
                name == family
                    || (kind == "histogram"
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(family.as_str())))
            })
        })
        .collect()
}

/// Every PromQL query of a dashboard: the panels' `expr`s and the query variables'.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    for var in dashboard["templating"]["list"].as_array().unwrap() {
        if var["type"] == "query" {
            let q = &var["query"];
            out.push(
                q["query"]
                    .as_str()
                    .or(q.as_str())
                    .expect("a query variable's query")
                    .to_string(),
            );
        }
    }
    out
}

/// The ```yaml blocks of REPORTING.md that hold alert rule groups.
fn rule_groups() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("probe/REPORTING.md")).unwrap();
    text.split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split_once("\n```").map(|(block, _)| block.to_string()))
        .filter(|b| b.starts_with("groups:"))
        .collect()
}

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn the_dashboard_and_alert_rules_name_only_families_the_watch_serves() {
    let Some(promtool) = require_tool("promtool", "prometheus") else {
        return;
    };
    let runs = Runs::new();
    let families = served_families(&runs).await;
    let watch_families: BTreeSet<&str> = families
        .iter()
        .map(|(f, _)| f.as_str())
        .filter(|f| f.starts_with("probe_watch_"))
        .collect();
    assert!(watch_families.len() >= 8, "{families:?}");
    // The check itself catches a family nobody serves.
    assert_eq!(
        unserved("rate(probe_watch_pushs_total[5m])", &families),
        ["probe_watch_pushs_total"]
    );
    assert!(unserved("probe_watch_push_latency_seconds_bucket", &families).is_empty());

    let text = std::fs::read_to_string(repo().join("docs/watch/grafana-dashboard.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let queries = dashboard_queries(&dashboard);
    assert!(queries.len() >= 10, "{queries:?}");
    let mut used = BTreeSet::new();
    for q in &queries {
        let names = probe_names(q);
        assert!(!names.is_empty(), "a query that names no probe family: {q}");
        assert_eq!(unserved(q, &families), Vec::<String>::new(), "{q}");
        used.extend(names);
    }
    // Every family the watch serves is on the dashboard somewhere.
    for family in &watch_families {
        assert!(
            used.iter().any(|u| u.starts_with(family)),
            "{family} is on no panel"
        );
    }

    let groups = rule_groups();
    assert!(groups.len() >= 2, "{groups:?}");
    let watch_rules = groups
        .iter()
        .find(|g| g.contains("probe_watch_"))
        .expect("a rule group for probe watch");
    let exprs: Vec<&str> = watch_rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .collect();
    assert!(exprs.len() >= 4, "{watch_rules}");
    for expr in exprs {
        if expr.starts_with("up{") {
            continue; // Prometheus' own series for the scrape.
        }
        assert!(!probe_names(expr).is_empty(), "{expr}");
        assert_eq!(unserved(expr, &families), Vec::<String>::new(), "{expr}");
    }
    for (i, group) in groups.iter().enumerate() {
        let file = runs.path(&format!("rules-{i}.yml"));
        std::fs::write(&file, group).unwrap();
        let out = std::process::Command::new(&promtool)
            .args(["check", "rules"])
            .arg(&file)
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool check rules:\n{group}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
