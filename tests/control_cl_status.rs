//! Our cl_status against our ApiServer, compared with the REAL cl_status
//! against a REAL Heartbeat 3.0.6 (tests/data/control/real, recorded by
//! tests/harness/record-cl_status.sh): stdout, stderr (timestamps, pids
//! and host names normalised) and exit code of every recorded command, in
//! every recorded state.

mod control_common;

use control_common::{authz, lab_view, our_cl_status, recorded, recorded_cases, Run, TestServer};
use heartbeat_rs::control::ApiAction;

fn compare_state(state: &str, socket: &std::path::Path) -> Vec<String> {
    let mut failures = Vec::new();
    let cases = recorded_cases();
    assert!(
        cases.len() > 70,
        "only {} recorded cases found",
        cases.len()
    );
    for (name, args) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let want = recorded(state, &name);
        let got: Run = our_cl_status(socket, &args);
        if got != want {
            failures.push(format!(
                "{state}/{name} (cl_status {}):\n  want {want:?}\n  got  {got:?}",
                args.join(" ")
            ));
        }
    }
    failures
}

fn check(state: &str, server: Option<TestServer>, socket: &std::path::Path) -> Vec<ApiAction> {
    let failures = compare_state(state, socket);
    let actions = server.map(TestServer::stop).unwrap_or_default();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        recorded_cases().len(),
        failures.join("\n")
    );
    actions
}

#[test]
fn both_active_matches_real() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let socket = server.path.clone();
    let actions = check("both-active", Some(server), &socket);
    // `clientstatus bravo foo 3000` went over the cluster.
    assert!(
        actions.iter().any(|a| matches!(a, ApiAction::SendCluster(m)
            if m.msg_type() == Some("query-cstatus") && m.get_str("cn") == Some("foo"))),
        "{actions:?}"
    );
}

#[test]
fn peer_dead_matches_real() {
    let server = TestServer::start(lab_view("peer-dead"), authz(false));
    let socket = server.path.clone();
    let actions = check("peer-dead", Some(server), &socket);
    // A dead peer's clients are offline without asking anyone.
    assert!(!actions
        .iter()
        .any(|a| matches!(a, ApiAction::SendCluster(_))));
}

#[test]
fn refused_signon_matches_real() {
    let server = TestServer::start(lab_view("both-active"), authz(true));
    let socket = server.path.clone();
    check("refused", Some(server), &socket);
}

#[test]
fn stopped_daemon_matches_real() {
    let dir = control_common::temp_dir("stopped");
    check("stopped", None, &dir.join("register"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_daemon_that_never_answers_times_out_with_12() {
    let dir = control_common::temp_dir("mute");
    let path = dir.join("register");
    let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
    // Detached: it may outlive the test by a second.
    std::thread::spawn(move || {
        // Accept and keep the connection open without a word.
        let conn = listener.accept();
        std::thread::sleep(std::time::Duration::from_secs(7));
        drop(conn);
    });
    let started = std::time::Instant::now();
    let run = our_cl_status(&path, &["listnodes"]);
    let took = started.elapsed();
    assert_eq!(
        run,
        Run {
            out: String::new(),
            err: String::new(),
            rc: 12
        }
    );
    assert!(
        took >= std::time::Duration::from_secs(5) && took < std::time::Duration::from_secs(7),
        "{took:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn json_and_prometheus_from_our_server() {
    let mut view = lab_view("both-active");
    view.pid = Some(4242);
    view.uptime_secs = Some(99);
    view.counters = vec![("sent".into(), 17), ("received".into(), 23)];
    view.groups.push(heartbeat_rs::control::GroupView {
        key: "labsvc".into(),
        node: "alpha".into(),
        state: "running".into(),
    });
    let server = TestServer::start(view, authz(false));
    let json = our_cl_status(&server.path, &["--json"]);
    assert_eq!(json.rc, 0, "{json:?}");
    assert_eq!(json.err, "");
    for needle in [
        "\"local_node\": \"alpha\"",
        "\"pid\": 4242",
        "\"uptime_seconds\": 99",
        "\"resources_held\": \"local\"",
        "{\"name\": \"bravo\", \"type\": \"normal\", \"status\": \"active\", \"weight\": 100, \"site\": \"\", \"links\": [{\"name\": \"eth0\", \"status\": \"up\", \"last_heard_ms\": null}]}",
        "{\"key\": \"labsvc\", \"node\": \"alpha\", \"state\": \"running\"}",
        "\"sent\": 17",
    ] {
        assert!(json.out.contains(needle), "{needle} missing in\n{}", json.out);
    }
    let prom = our_cl_status(&server.path, &["--prometheus"]);
    assert_eq!(prom.rc, 0, "{prom:?}");
    for line in [
        "heartbeat_uptime_seconds 99",
        "heartbeat_node_up{node=\"bravo\",type=\"normal\",status=\"active\"} 1",
        "heartbeat_sent_total 17",
        "heartbeat_group_info{group=\"labsvc\",node=\"alpha\",state=\"running\"} 1",
    ] {
        assert!(
            prom.out.lines().any(|l| l == line),
            "{line} missing in\n{}",
            prom.out
        );
    }
    // Without a daemon: like every other sub-command.
    let dir = control_common::temp_dir("nojson");
    let run = our_cl_status(&dir.join("register"), &["--json"]);
    assert_eq!(run.rc, 1);
    assert!(run.err.contains("Cannot signon with heartbeat"), "{run:?}");
    let _ = std::fs::remove_dir_all(dir);
}
