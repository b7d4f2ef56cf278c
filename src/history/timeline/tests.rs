//! The timeline drawn from hand-written event lists, shaped like the ones real runs print
//! (`tsync apply --output json` against a lab), and read back as XML.

use serde_json::{Value, json};

use super::group::LineKind;
use super::outcome::Outcome;
use super::{ROLLBACK_COLOUR, render};
use crate::history::TimedEvent;

/// `events` stamped a quarter of a second apart, as a run that takes its time.
fn stamped(events: Vec<Value>) -> Vec<TimedEvent> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| TimedEvent {
            at_secs: i as f64 * 0.25,
            event,
        })
        .collect()
}

fn step(stage: &str, host: &str, step: u64, command: &str) -> Value {
    json!({"event": "step_started", "stage": stage, "host": host, "step": step,
           "kind": "run", "command": command})
}

fn finished(stage: &str, host: &str, step: u64, command: &str, code: i64) -> Value {
    json!({"event": "step_finished", "stage": stage, "host": host, "step": step,
           "command": command, "exit_code": code, "ok": code == 0, "end": "exited",
           "changed": code == 0, "duration_secs": 0.2,
           "stderr": if code == 0 { "" } else { "boom\n" }})
}

fn host_finished(stage: &str, host: &str, outcome: &str) -> Value {
    json!({"event": "host_finished", "stage": stage, "host": host, "outcome": outcome,
           "duration_secs": 0.5})
}

/// Two stages: `prepare` on three hosts (one skipped step), then `deploy` rolling one host
/// at a time with max-fail 0: web-1 passes its check, web-2 fails it and is rolled back,
/// the rollout stops and web-3 never starts.
fn rollout() -> Vec<TimedEvent> {
    let mut events = vec![
        json!({"event": "run_started", "playbook": "site", "stages": 2, "hosts": 3}),
        json!({"event": "stage_started", "stage": "prepare", "hosts": ["web-1", "web-2", "web-3"]}),
    ];
    for host in ["web-1", "web-2", "web-3"] {
        events.push(step("prepare", host, 1, "echo prep"));
        events.push(finished("prepare", host, 1, "echo prep", 0));
    }
    events.extend([
        step("prepare", "web-3", 2, "true"),
        json!({"event": "step_finished", "stage": "prepare", "host": "web-3", "step": 2,
               "command": "true", "exit_code": null, "ok": true, "end": "skipped",
               "skipped": "creates / exists", "changed": false, "duration_secs": 0.01}),
        json!({"event": "stage_finished", "stage": "prepare", "ok": true, "failed_hosts": 0,
               "duration_secs": 2.0}),
        json!({"event": "stage_started", "stage": "deploy", "hosts": ["web-1", "web-2", "web-3"]}),
    ]);
    for (batch, host) in [(1, "web-1"), (2, "web-2")] {
        let ok = host == "web-1";
        events.extend([
            json!({"event": "batch_started", "stage": "deploy", "batch": batch, "batches": 3,
                   "hosts": [host]}),
            step("deploy", host, 1, "echo v2 > /srv/version"),
            finished("deploy", host, 1, "echo v2 > /srv/version", 0),
            json!({"event": "check_finished", "stage": "deploy", "host": host,
                   "check": "health", "target": "http://10.0.0.1:80/up", "ok": ok,
                   "attempts": 1, "duration_secs": 0.2}),
            host_finished("deploy", host, if ok { "ok" } else { "failed" }),
        ]);
    }
    events.extend([
        json!({"event": "rollback_started", "stage": "deploy", "host": "web-2"}),
        step("deploy", "web-2", 2, "echo v1 > /srv/version"),
        finished("deploy", "web-2", 2, "echo v1 > /srv/version", 0),
        json!({"event": "rollback_finished", "stage": "deploy", "host": "web-2", "ok": true,
               "duration_secs": 0.3}),
        json!({"event": "rollout_stopped", "stage": "deploy", "failed_hosts": 1, "max_fail": 0,
               "not_started": ["web-3"]}),
        host_finished("deploy", "web-3", "not_started"),
        json!({"event": "stage_finished", "stage": "deploy", "ok": false, "failed_hosts": 1,
               "duration_secs": 3.0}),
        json!({"event": "run_finished", "summary": {"ok": false, "interrupted": false,
               "duration_secs": 9.0, "exit_code": 3, "hosts": [], "stages": []}}),
    ]);
    stamped(events)
}

/// The document, parsed: it must be well-formed XML whose root is an SVG 1.1 `<svg>`.
fn parse(svg: &str) -> roxmltree::Document<'_> {
    let document = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    assert_eq!(root.attribute("version"), Some("1.1"));
    document
}

/// Every text of the document, joined: what a reader sees or hovers over.
fn texts(document: &roxmltree::Document) -> String {
    document
        .descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The elements named `name` whose hover text (their `<title>`) contains `needle`.
fn hovered<'a>(
    document: &'a roxmltree::Document,
    name: &str,
    needle: &str,
) -> Vec<roxmltree::Node<'a, 'a>> {
    document
        .descendants()
        .filter(|n| n.has_tag_name(name))
        .filter(|n| {
            n.children()
                .any(|c| c.has_tag_name("title") && c.text().is_some_and(|t| t.contains(needle)))
        })
        .collect()
}

/// The `<title>` directly under an element, or under its enclosing `<g>`.
fn title_of(node: roxmltree::Node) -> String {
    let own = node.children().find(|c| c.has_tag_name("title"));
    let group = node
        .parent()
        .and_then(|p| p.children().find(|c| c.has_tag_name("title")));
    own.or(group)
        .and_then(|t| t.text())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_rollout_is_valid_svg_naming_every_host_and_stage() {
    let svg = render("site", &rollout());
    let document = parse(&svg);
    let texts = texts(&document);
    for name in ["web-1", "web-2", "web-3", "prepare", "deploy", "site"] {
        assert!(texts.contains(name), "{name} is not in the picture");
    }
    assert!(
        texts.contains("3 hosts · 2 stages · failed (exit 3) in 9s"),
        "{texts}"
    );
    // The host that failed its stage is named in red there, and only there.
    let red: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("fill") == Some(Outcome::Failed.colour()))
        .map(title_of)
        .collect();
    assert_eq!(red, ["web-2 in stage deploy: failed, 0.5s"]);
}

#[test]
fn every_step_is_a_bar_with_its_number_kind_command_outcome_and_duration() {
    let document_text = render("site", &rollout());
    let document = parse(&document_text);
    let bars = hovered(&document, "rect", " · step ");
    // Three prepare steps and a skipped one, two deploys and a rollback step.
    assert_eq!(bars.len(), 7);
    let skipped = title_of(bars[3]);
    assert!(skipped.contains("web-3 · stage prepare · step 2 · run\ntrue\nskipped"));
    assert!(skipped.contains("creates / exists"), "{skipped}");
    assert_eq!(bars[3].attribute("fill"), Some(Outcome::Skipped.colour()));
    let changed = title_of(bars[0]);
    assert!(
        changed.contains("echo prep\nchanged, exit 0, 0.2s"),
        "{changed}"
    );
}

#[test]
fn a_failed_step_has_the_failure_colour_and_its_stderr() {
    let events = stamped(vec![
        json!({"event": "stage_started", "stage": "build", "hosts": ["ci"]}),
        step("build", "ci", 1, "make"),
        finished("build", "ci", 1, "make", 2),
        json!({"event": "step_started", "stage": "build", "host": "ci", "step": 2,
               "kind": "script", "command": "sleep 99"}),
        json!({"event": "step_finished", "stage": "build", "host": "ci", "step": 2,
               "command": "sleep 99", "exit_code": null, "ok": false, "end": "timed_out",
               "changed": false, "duration_secs": 0.25, "error": "ran past its 1s timeout"}),
    ]);
    let svg = render("build", &events);
    let document = parse(&svg);
    let failed = hovered(&document, "rect", "step 1");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attribute("fill"), Some(Outcome::Failed.colour()));
    assert!(title_of(failed[0]).contains("failed, exit 2, 0.2s\nboom"));
    let timed_out = hovered(&document, "rect", "step 2");
    assert_eq!(
        timed_out[0].attribute("fill"),
        Some(Outcome::TimedOut.colour())
    );
    assert!(title_of(timed_out[0]).contains("ran past its 1s timeout"));
    // Red means failed and nothing else: no other bar is drawn in it.
    let red = document.descendants().filter(|n| {
        n.has_tag_name("rect") && n.attribute("fill") == Some(Outcome::Failed.colour())
    });
    assert_eq!(red.count(), 2, "the failed bar and its legend swatch");
}

#[test]
fn hostile_host_names_and_commands_are_escaped() {
    let host = "<web&\"01'>\u{1}\u{ffff}";
    let command = "a < b && echo \"]]>\" '\u{7}' </svg>";
    let events = stamped(vec![
        json!({"event": "stage_started", "stage": "s<&>", "hosts": [host]}),
        step("s<&>", host, 1, command),
        finished("s<&>", host, 1, command, 0),
        json!({"event": "host_unreachable", "stage": "s<&>", "host": host,
               "error": "ssh: <refused>\r\n"}),
    ]);
    let svg = render("title </svg> & \u{0}", &events);
    assert!(svg.contains("the run&apos;s start and end were not recorded"));
    assert!(!svg.contains('\u{1}') && !svg.contains('\u{7}') && !svg.contains('\u{0}'));
    let document = parse(&svg);
    let texts = texts(&document);
    assert!(texts.contains("<web&\"01'>\u{fffd}\u{fffd}"), "{texts}");
    assert!(
        texts.contains("a < b && echo \"]]>\" '\u{fffd}' </svg>"),
        "{texts}"
    );
    assert!(texts.contains("ssh: <refused>\r\n"), "{texts}");
    assert!(texts.contains("title </svg> & \u{fffd}"), "{texts}");
    assert!(texts.contains("s<&>"), "{texts}");
}

#[test]
fn an_empty_run_is_still_a_picture() {
    for events in [
        Vec::new(),
        stamped(vec![json!({"event": "run_started",
        "playbook": "p", "stages": 0, "hosts": 0})]),
    ] {
        let svg = render("nothing", &events);
        let document = parse(&svg);
        let texts = texts(&document);
        assert!(texts.contains("no stage started"), "{texts}");
        assert!(texts.contains("0 hosts · 0 stages · no end recorded") || events.is_empty());
        assert!(texts.contains("0s") && texts.contains("ok"), "{texts}");
    }
}

#[test]
fn a_rollback_is_a_hatched_span_and_its_steps_are_outlined() {
    let svg = render("site", &rollout());
    let document = parse(&svg);
    let spans = hovered(&document, "rect", "rollback of web-2 in stage deploy");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].attribute("fill"), Some("url(#rollback)"));
    assert!(title_of(spans[0]).contains("every rollback step succeeded, 0.3s"));
    let steps = hovered(&document, "rect", "step 2 (rollback)");
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].attribute("stroke"), Some(ROLLBACK_COLOUR));
    assert!(
        document
            .descendants()
            .any(|n| n.attribute("id") == Some("rollback"))
    );
}

#[test]
fn a_stopped_rollout_is_marked_and_its_hosts_not_started() {
    let svg = render("site", &rollout());
    let document = parse(&svg);
    let stop = document
        .descendants()
        .find(|n| {
            n.has_tag_name("line") && n.attribute("stroke") == Some(LineKind::Stopped.colour())
        })
        .expect("a line for the stop");
    let hover = title_of(stop);
    assert!(
        hover.contains("rollout stopped at 6.5s, 1 host failed (max-fail 0); not started: web-3"),
        "{hover}"
    );
    let texts = texts(&document);
    assert!(texts.contains("rollout stopped") && texts.contains("not started"));
    assert!(
        texts.contains("batch 1/3") && texts.contains("batch 2/3"),
        "{texts}"
    );
}

#[test]
fn checks_are_markers_where_they_finished() {
    let svg = render("site", &rollout());
    let document = parse(&svg);
    let passed: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .collect();
    let failed: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("polygon"))
        .collect();
    // One of each on the chart, one of each in the legend.
    assert_eq!((passed.len(), failed.len()), (2, 2));
    assert!(title_of(passed[0]).contains("check health on web-1 passed after 1 attempt"));
    assert!(title_of(failed[0]).contains("check health on web-2 gave up"));
}

#[test]
fn a_step_the_events_never_end_runs_to_the_end_unfinished() {
    let events = stamped(vec![
        json!({"event": "stage_started", "stage": "s", "hosts": ["a"]}),
        step("s", "a", 1, "sleep 600"),
        json!({"event": "output", "stage": "s", "host": "a", "step": 1, "stream": "stdout",
               "line": "still here"}),
    ]);
    let svg = render("killed", &events);
    let document = parse(&svg);
    let bars = hovered(&document, "rect", "step 1");
    assert_eq!(
        bars[0].attribute("fill"),
        Some(Outcome::Unfinished.colour())
    );
    assert!(title_of(bars[0]).contains("no end recorded after 0.25s"));
}

#[test]
fn two_hundred_hosts_get_a_row_each_and_long_runs_read_in_minutes() {
    let hosts: Vec<String> = (1..=200).map(|i| format!("host-{i:03}")).collect();
    let mut events = vec![json!({"event": "stage_started", "stage": "all", "hosts": hosts})];
    for (i, host) in hosts.iter().enumerate() {
        events.push(step("all", host, 1, "uptime"));
        events.push(finished("all", host, 1, "uptime", i64::from(i % 50 == 0)));
    }
    let mut events = stamped(events);
    for (i, timed) in events.iter_mut().enumerate() {
        timed.at_secs = i as f64 * 1.5;
    }
    let svg = render("fleet", &events);
    let document = parse(&svg);
    let texts = texts(&document);
    assert!(hosts.iter().all(|h| texts.contains(h.as_str())));
    assert!(texts.contains("10:00"), "m:ss labels for a 10-minute run");
    let height: f64 = document
        .root_element()
        .attribute("height")
        .unwrap()
        .parse()
        .unwrap();
    let one = render(
        "one",
        &stamped(vec![json!({"event": "stage_started", "stage": "all",
        "hosts": ["a"]})]),
    );
    let one: f64 = parse(&one)
        .root_element()
        .attribute("height")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        height >= one + 199.0 * super::ROW_HEIGHT,
        "{height} vs {one}"
    );
}

/// A stream `tsync apply --output json` printed against a lab, stamped 50 ms apart.
fn recorded(lines: &str) -> Vec<TimedEvent> {
    let events = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut events = stamped(events);
    for (i, timed) in events.iter_mut().enumerate() {
        timed.at_secs = i as f64 * 0.05;
    }
    events
}

#[test]
fn recorded_runs_draw_every_host_with_their_rollbacks_timeouts_and_unreachable_hosts() {
    // Four hosts rolled one at a time: lab-2's check fails, it is rolled back, the rollout
    // stops before lab-3 and lab-4.
    let rollout = render(
        "rollout",
        &recorded(include_str!("../../../tests/fixtures/events/rollout.jsonl")),
    );
    let document = parse(&rollout);
    let texts = texts(&document);
    for host in ["lab-1", "lab-2", "lab-3", "lab-4"] {
        assert!(texts.contains(host), "{host}");
    }
    assert_eq!(hovered(&document, "rect", "rollback of lab-2").len(), 1);
    assert!(texts.contains("not started: lab-3, lab-4"), "{texts}");
    // Three hosts in batches of two: lab-1 fails its check after three attempts, lab-2's
    // step times out, lab-3 is down.
    let failures = render(
        "failures",
        &recorded(include_str!(
            "../../../tests/fixtures/events/failures.jsonl"
        )),
    );
    let document = parse(&failures);
    let timed_out = hovered(&document, "rect", "lab-2 · stage build · step 2");
    assert_eq!(
        timed_out[0].attribute("fill"),
        Some(Outcome::TimedOut.colour())
    );
    assert!(title_of(timed_out[0]).contains("timed out after 300ms"));
    let unreachable = hovered(&document, "rect", "lab-3 unreachable in stage build");
    assert_eq!(
        unreachable[0].attribute("fill"),
        Some(Outcome::Unreachable.colour())
    );
    assert!(title_of(unreachable[0]).contains("Connection refused"));
    let gave_up = hovered(
        &document,
        "g",
        "check health on lab-1 gave up after 3 attempts",
    );
    assert_eq!(gave_up.len(), 1);
}

#[test]
fn a_cancellation_and_a_skipped_stage_are_marked() {
    let events = stamped(vec![
        json!({"event": "stage_started", "stage": "a", "hosts": ["h"]}),
        step("a", "h", 1, "sleep 9"),
        json!({"event": "cancel_requested", "forced": true, "reason": "SIGTERM"}),
        json!({"event": "step_finished", "stage": "a", "host": "h", "step": 1,
               "command": "sleep 9", "exit_code": null, "ok": false, "end": "cancelled",
               "changed": false, "duration_secs": 0.5}),
        json!({"event": "stage_skipped", "stage": "b", "reason": "the run was interrupted"}),
    ]);
    let svg = render("stopped", &events);
    let document = parse(&svg);
    let cancel = document
        .descendants()
        .find(|n| {
            n.has_tag_name("line") && n.attribute("stroke") == Some(LineKind::Cancel.colour())
        })
        .expect("a line for the cancellation");
    assert_eq!(title_of(cancel), "SIGTERM at 0.5s: running steps stopped");
    let bar = hovered(&document, "rect", "step 1");
    assert_eq!(bar[0].attribute("fill"), Some(Outcome::Cancelled.colour()));
    let texts = texts(&document);
    assert!(
        texts.contains("b (skipped: the run was interrupted)"),
        "{texts}"
    );
}

#[test]
fn runs_of_hours_read_in_hours_minutes_and_seconds() {
    let events = vec![
        TimedEvent {
            at_secs: 0.0,
            event: json!({"event": "stage_started", "stage": "s", "hosts": ["h"]}),
        },
        TimedEvent {
            at_secs: 4000.0,
            event: json!({"event": "stage_finished", "stage": "s", "ok": true,
                          "failed_hosts": 0, "duration_secs": 4000.0}),
        },
    ];
    let svg = render("long", &events);
    let texts = texts(&parse(&svg));
    assert!(
        texts.contains("1:00:00") && texts.contains("30:00"),
        "{texts}"
    );
    assert!(
        texts.contains("stage s ok in 1:06:40: 0 hosts failed or unreachable"),
        "{texts}"
    );
}

#[test]
fn snapshot_of_a_small_rollout() {
    insta::assert_snapshot!("rollout", render("site", &rollout()));
}
