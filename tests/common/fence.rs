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
