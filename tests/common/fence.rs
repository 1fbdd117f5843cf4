//! The project's test STONITH plugin (`external/labfence`, tests/data/stonith)
//! in lab hosts, and the epoch-stamped record files it and labsvc write.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::lab::{data_dir, Lab};

/// cluster-glue's directory of `external/*` plugins.
pub const PLUGIN_DIR: &str = "/usr/lib/stonith/plugins/external";

/// Makes `external/labfence` the only external plugin of hosts 1 (alpha) and
/// 2 (bravo) — a bind mount inside each host's private mount namespace —
/// and tells the plugin in `ctl` where each node's host directory is.
pub fn install_labfence(lab: &Lab, ctl: &Path) {
    for (i, node) in [(1, "alpha"), (2, "bravo")] {
        let hd = lab.host_dir(i);
        fs::write(
            ctl.join(format!("hostdir.{node}")),
            hd.display().to_string(),
        )
        .unwrap();
        let plugins = hd.join("stonith-external");
        fs::create_dir_all(&plugins).unwrap();
        let plugin = plugins.join("labfence");
        fs::copy(data_dir().join("../stonith/labfence"), &plugin).unwrap();
        fs::set_permissions(&plugin, fs::Permissions::from_mode(0o755)).unwrap();
        let dir = plugins.display().to_string();
        let out = lab.exec(i, &["mount", "--bind", &dir, PLUGIN_DIR]);
        assert!(out.status.success(), "bind mount in h{i}: {out:?}");
    }
}

/// Lines that start with an epoch time (`date +%s.%N`).
pub fn timed_lines(text: &str) -> Vec<(f64, String)> {
    text.lines()
        .filter_map(|l| {
            let (t, rest) = l.split_once(' ')?;
            Some((t.parse().ok()?, rest.to_string()))
        })
        .collect()
}

/// What labfence recorded in `ctl` (one timed line per call and result).
pub fn labfence_calls(ctl: &Path) -> String {
    fs::read_to_string(ctl.join("calls")).unwrap_or_default()
}

/// Times of labfence's `reset NODE` calls, and of their results with `rc=`.
pub fn resets(ctl: &Path, node: &str) -> (Vec<f64>, Vec<(f64, String)>) {
    let calls = timed_lines(&labfence_calls(ctl));
    let started = calls
        .iter()
        .filter(|(_, l)| l.contains(&format!("args=[reset {node}]")))
        .map(|(t, _)| *t)
        .collect();
    let results = calls
        .iter()
        .filter_map(|(t, l)| {
            let rest = l.split(&format!("result reset {node} ")).nth(1)?;
            Some((*t, rest.split_whitespace().next()?.to_string()))
        })
        .collect();
    (started, results)
}

/// Whether host `i` runs the test resource labsvc (its state file exists).
pub fn runs_labsvc(lab: &Lab, i: usize) -> bool {
    lab.file(i, "/run/labsvc/labsvc.state").exists()
}

/// Times at which host `i` started labsvc (its /var/log/labsvc.events).
pub fn labsvc_starts(lab: &Lab, i: usize) -> Vec<f64> {
    let text = fs::read_to_string(lab.file(i, "/var/log/labsvc.events")).unwrap_or_default();
    timed_lines(&text)
        .into_iter()
        .filter(|(_, l)| l.starts_with("start "))
        .map(|(t, _)| t)
        .collect()
}
