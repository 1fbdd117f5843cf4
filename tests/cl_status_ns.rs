//! OUR cl_status and hb_standby against REAL Heartbeat 3.0.6 nodes in a
//! namespace lab: for every recorded command line, our output, stderr
//! (normalised) and exit code equal the real cl_status's, run side by side
//! on the same node; then our hb_standby makes the real daemon go standby.

mod common;
mod control_common;

use std::time::Duration;

use common::lab::{data_dir, require_real_heartbeat, wait_for, Lab};
use control_common::{normalize_err, recorded, recorded_cases, Run};

/// Runs every recorded case with the real and our cl_status on host 1, in
/// one shell inside the host (one lab exec per binary and case would take
/// minutes); results land in the host's /var/log/clcmp.
fn run_all(lab: &Lab, binaries: &[(&str, &str)]) {
    let mut script =
        String::from("rm -rf /var/log/clcmp; mkdir -p /var/log/clcmp; cd /var/log/clcmp\n");
    for (name, args) in recorded_cases() {
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        for (tag, binary) in binaries {
            script.push_str(&format!(
                "{binary} {args} >{name}.{tag}.out 2>{name}.{tag}.err; echo $? >{name}.{tag}.rc\n",
                args = quoted.join(" ")
            ));
        }
    }
    let out = lab.exec(1, &["bash", "-c", &script]);
    assert!(out.status.success(), "case script failed: {out:?}");
}

fn result(lab: &Lab, name: &str, tag: &str) -> Run {
    let read = |ext: &str| {
        let path = format!("/var/log/clcmp/{name}.{tag}.{ext}");
        std::fs::read_to_string(lab.file(1, &path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    Run {
        out: read("out"),
        err: normalize_err(&read("err")),
        rc: read("rc").trim().parse().unwrap_or(-1),
    }
}

/// The cases where our cl_status differs from the real one (each run
/// twice: a difference must show in both rounds, in case the cluster moved
/// between the two runs).
fn differences(lab: &Lab) -> Vec<String> {
    let ours = env!("CARGO_BIN_EXE_cl_status");
    let binaries = [("real", "cl_status"), ("ours", ours)];
    let mut suspects: Vec<String> = recorded_cases().into_iter().map(|(n, _)| n).collect();
    let mut diffs = Vec::new();
    for _ in 0..2 {
        run_all(lab, &binaries);
        diffs.clear();
        for name in &suspects {
            let (real, mine) = (result(lab, name, "real"), result(lab, name, "ours"));
            if real != mine {
                diffs.push((
                    name.clone(),
                    format!("{name}:\n  real {real:?}\n  ours {mine:?}"),
                ));
            }
        }
        suspects = diffs.iter().map(|(n, _)| n.clone()).collect();
        if suspects.is_empty() {
            break;
        }
    }
    diffs.into_iter().map(|(_, d)| d).collect()
}

fn settled(lab: &Lab, peer: &str, held: &str) -> bool {
    lab.exec_stdout(1, &["cl_status", "nodestatus", "bravo"]) == peer
        && lab.exec_stdout(1, &["cl_status", "rscstatus"]) == held
}

#[test]
fn our_cl_status_matches_the_real_one_on_a_real_node() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("clst-ns", 2);
    let conf = data_dir().join("bcast");
    lab.run_real(1, &conf, "alpha");
    lab.run_real(2, &conf, "bravo");
    assert!(
        wait_for(|| settled(&lab, "active", "local"), Duration::from_secs(60)),
        "cluster did not settle"
    );
    let diffs = differences(&lab);
    assert!(diffs.is_empty(), "both active:\n{}", diffs.join("\n"));

    // --json against a real daemon: no x-status there, the standard
    // requests still give nodes, links and resources.
    let json = lab.exec(1, &[env!("CARGO_BIN_EXE_cl_status"), "--json"]);
    let text = String::from_utf8_lossy(&json.stdout);
    assert!(json.status.success(), "{json:?}");
    assert!(text.contains("\"resources_held\": \"local\""), "{text}");
    assert!(text.contains("\"uptime_seconds\": null"), "{text}");
    assert!(
        text.contains("{\"name\": \"bravo\", \"type\": \"normal\", \"status\": \"active\""),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&json.stderr).contains("no x-status"));

    // Our hb_standby through the real daemon's FIFO: alpha gives labsvc away.
    let out = lab.exec(1, &[env!("CARGO_BIN_EXE_hb_standby")]);
    assert!(out.status.success(), "hb_standby: {out:?}");
    assert!(
        wait_for(
            || lab.log_of(1).contains("alpha wants to go standby [all]"),
            Duration::from_secs(10)
        ),
        "the real daemon did not read our standby request"
    );
    assert!(
        wait_for(
            || lab.file(2, "/run/labsvc/labsvc.state").exists(),
            Duration::from_secs(30)
        ),
        "bravo did not take labsvc over"
    );
    // And back with our hb_takeover.
    let out = lab.exec(1, &[env!("CARGO_BIN_EXE_hb_takeover")]);
    assert!(out.status.success(), "hb_takeover: {out:?}");
    assert!(
        wait_for(
            || lab.file(1, "/run/labsvc/labsvc.state").exists(),
            Duration::from_secs(30)
        ),
        "alpha did not take labsvc back"
    );

    lab.kill(2);
    assert!(
        wait_for(|| settled(&lab, "dead", "all"), Duration::from_secs(30)),
        "alpha did not take over"
    );
    let diffs = differences(&lab);
    assert!(diffs.is_empty(), "peer dead:\n{}", diffs.join("\n"));
}

/// The cases where the REAL cl_status, run against OUR daemon on host 1,
/// prints something else than it printed against a real Heartbeat in the
/// same cluster state (fixtures recorded in tests/data/control/real).
fn differences_from_fixtures(lab: &Lab, state: &str) -> Vec<String> {
    run_all(lab, &[("real", "cl_status")]);
    recorded_cases()
        .into_iter()
        .filter_map(|(name, _)| {
            let (want, got) = (recorded(state, &name), result(lab, &name, "real"));
            (want != got).then(|| format!("{name}:\n  recorded {want:?}\n  ours     {got:?}"))
        })
        .collect()
}

#[test]
fn the_real_cl_status_against_our_daemon_prints_the_recorded_output() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("clst-ours", 2);
    let conf = data_dir().join("bcast");
    lab.run_ours(1, "alpha", &conf, &["-f"]);
    lab.run_ours(2, "bravo", &conf, &["-f"]);
    assert!(
        wait_for(|| settled(&lab, "active", "local"), Duration::from_secs(60)),
        "our cluster did not settle: {}",
        lab.log_of(1)
    );
    let diffs = differences_from_fixtures(&lab, "both-active");
    assert!(diffs.is_empty(), "both active:\n{}", diffs.join("\n"));

    lab.kill(2);
    assert!(
        wait_for(|| settled(&lab, "dead", "all"), Duration::from_secs(30)),
        "alpha did not take over"
    );
    let diffs = differences_from_fixtures(&lab, "peer-dead");
    assert!(diffs.is_empty(), "peer dead:\n{}", diffs.join("\n"));
}
