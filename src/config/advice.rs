//! Advice `--check` gives about configurations Heartbeat accepts but that
//! leave a known hole (warnings only; start-up does not print them).

use std::path::Path;

use super::diag::Diagnostic;
use super::model::HaCf;

/// A two-node cluster with neither fencing nor a ping node cannot tell a
/// dead peer from a cut link: both nodes take over (split brain).
pub fn split_brain(cf: &HaCf, hacf_path: &Path) -> Option<Diagnostic> {
    let fenced = !cf.stonith.is_empty() || !cf.stonith_host.is_empty();
    let pinged = !cf.ping_hosts.is_empty() || !cf.ping_groups.is_empty();
    if cf.nodes.len() != 2 || fenced || pinged {
        return None;
    }
    Some(Diagnostic::warning(
        hacf_path,
        None,
        "two nodes with no STONITH (stonith/stonith_host) and no ping node (ping/ping_group): \
         if the nodes lose sight of each other, both take over the resources (split brain)",
        "add 'ping ROUTER' (a host both nodes reach) with 'respawn hacluster \
         /usr/libexec/heartbeat/ipfail', and/or stonith_host lines so the survivor fences \
         its peer first",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> HaCf {
        HaCf {
            nodes: vec!["alpha".into(), "bravo".into()],
            ..HaCf::default()
        }
    }

    #[test]
    fn only_an_undefended_pair_is_warned() {
        let path = Path::new("/etc/ha.d/ha.cf");
        let d = split_brain(&pair(), path).expect("warning");
        assert!(!d.is_error());
        assert!(d.to_string().contains("split brain"), "{d}");
        let mut cf = pair();
        cf.ping_hosts.push("10.0.0.254".into());
        assert!(split_brain(&cf, path).is_none());
        let mut cf = pair();
        cf.ping_groups.push(("gw".into(), vec!["10.0.0.1".into()]));
        assert!(split_brain(&cf, path).is_none());
        let mut cf = pair();
        cf.stonith_host.push("* null alpha bravo".into());
        assert!(split_brain(&cf, path).is_none());
        let mut cf = pair();
        cf.stonith.push("external/ssh /etc/ha.d/stonith.cfg".into());
        assert!(split_brain(&cf, path).is_none());
        let mut cf = pair();
        cf.nodes.pop();
        assert!(split_brain(&cf, path).is_none());
    }
}
