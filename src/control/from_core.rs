//! Building the [`ClusterView`] from the protocol core plus what only the
//! daemon knows (configuration, resource layer, process facts).

use super::view::{ClusterView, GroupView, LinkView, NodeType, NodeView};
use crate::core::{Core, Counters};

/// The parts of the view the core does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewContext {
    /// The sign-on `hbversion` (`3.0.6 (node: 958e…)`).
    pub version: String,
    pub deadtime_ms: u64,
    pub keepalive_ms: u64,
    /// See [`super::view::facility_number`].
    pub logfacility: i32,
    /// `getparm` table, see [`super::params::api_parameters`].
    pub params: Vec<(String, String)>,
    /// What the resource layer says we hold (`none` … `transition`).
    pub rsc_hold: String,
    pub manages_resources: bool,
    pub pid: u32,
    pub uptime_secs: u64,
    pub groups: Vec<GroupView>,
    /// Counters kept outside the core (undecodable packets, API clients...).
    pub extra_counters: Vec<(String, u64)>,
    /// The core's monotonic clock now (`Now::mono_ms`), for last-heard ages.
    pub now_ms: u64,
}

/// The core's counters by name.
pub fn core_counters(c: &Counters) -> Vec<(String, u64)> {
    [
        ("received", c.received),
        ("accepted", c.accepted),
        ("duplicates", c.duplicates),
        ("not_for_us", c.not_for_us),
        ("own_echoes", c.own_echoes),
        ("dropped_missing_fields", c.dropped_missing_fields),
        ("dropped_bad_seq", c.dropped_bad_seq),
        ("dropped_bad_ts", c.dropped_bad_ts),
        ("dropped_bad_generation", c.dropped_bad_generation),
        ("dropped_unknown_node", c.dropped_unknown_node),
        ("dropped_replay", c.dropped_replay),
        ("dropped_old_duplicate", c.dropped_old_duplicate),
        ("dropped_stale_status", c.dropped_stale_status),
        ("dropped_bad_link", c.dropped_bad_link),
        ("lost_packets", c.lost_packets),
        ("recovered_packets", c.recovered_packets),
        ("irretrievably_lost", c.irretrievably_lost),
        ("rexmit_requests_sent", c.rexmit_requests_sent),
        ("retransmitted", c.retransmitted),
        ("naks_sent", c.naks_sent),
        ("late_heartbeats", c.late_heartbeats),
        ("acks_sent", c.acks_sent),
        ("sent", c.sent),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

/// The view of `core` (every configured node with its links, in ha.cf and
/// media order) completed with `ctx`.
pub fn view_from_core(core: &Core, ctx: &ViewContext) -> ClusterView {
    let mut view = ClusterView::new(core.local_node(), &ctx.version);
    view.deadtime_ms = ctx.deadtime_ms;
    view.keepalive_ms = ctx.keepalive_ms;
    view.logfacility = ctx.logfacility;
    view.params = ctx.params.clone();
    view.rsc_hold = ctx.rsc_hold.clone();
    view.manages_resources = ctx.manages_resources;
    view.pid = Some(ctx.pid);
    view.uptime_secs = Some(ctx.uptime_secs);
    view.groups = ctx.groups.clone();
    view.counters = core_counters(core.counters());
    view.counters.extend(ctx.extra_counters.iter().cloned());
    let links = core.link_names();
    for node in core.nodes() {
        let mut nv = NodeView::normal(node.name(), node.status());
        nv.uuid = node.uuid();
        for (i, name) in links.iter().enumerate() {
            let heard = node.links().get(i).and_then(|l| l.last_heard_ms());
            nv.links.push(LinkView {
                name: name.clone(),
                status: core
                    .link_status(node.name(), i)
                    .unwrap_or("dead")
                    .to_string(),
                last_heard_ms: heard.map(|at| ctx.now_ms.saturating_sub(at)),
            });
        }
        view.nodes.push(nv);
    }
    // Ping nodes take their place in the ha.cf node table order.
    for ping in core.ping_nodes() {
        let mut nv = NodeView::normal(ping.name(), ping.status());
        nv.nodetype = NodeType::Ping;
        nv.links.push(LinkView {
            name: ping.name().to_string(),
            status: if ping.link_up() { "up" } else { "dead" }.to_string(),
            last_heard_ms: ping.last_heard_ms().map(|at| ctx.now_ms.saturating_sub(at)),
        });
        let at = ping.params().position.min(view.nodes.len());
        view.nodes.insert(at, nv);
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::CoreParams;

    #[test]
    fn a_fresh_core() {
        let core = Core::new(
            CoreParams {
                local_node: "alpha".into(),
                nodes: vec!["alpha".into(), "bravo".into()],
                link_names: vec!["eth0".into(), "/dev/ttyS0".into()],
                generation: 1,
                ..CoreParams::default()
            },
            Box::new(String::new),
        );
        let ctx = ViewContext {
            version: "3.0.6 (node: x)".into(),
            rsc_hold: "none".into(),
            pid: 9,
            ..ViewContext::default()
        };
        let view = view_from_core(&core, &ctx);
        assert_eq!(view.local_node, "alpha");
        let names: Vec<&str> = view.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, vec!["alpha", "bravo"]);
        let bravo = view.node("bravo").expect("bravo");
        assert_eq!(bravo.status, "init");
        assert_eq!(
            bravo.links,
            vec![
                LinkView {
                    name: "eth0".into(),
                    status: "dead".into(),
                    last_heard_ms: None,
                },
                LinkView {
                    name: "/dev/ttyS0".into(),
                    status: "dead".into(),
                    last_heard_ms: None,
                }
            ]
        );
        assert_eq!(view.pid, Some(9));
        assert!(view.counters.iter().any(|(n, v)| n == "sent" && *v == 0));
        assert!(view
            .counters
            .iter()
            .any(|(n, v)| n == "late_heartbeats" && *v == 0));
    }

    #[test]
    fn link_ages_come_from_the_last_packet_heard() {
        use crate::core::{Input, Now};
        use crate::wire::Message;
        let mut core = Core::new(
            CoreParams {
                local_node: "alpha".into(),
                nodes: vec!["alpha".into(), "bravo".into()],
                link_names: vec!["eth0".into(), "eth1".into()],
                generation: 1,
                ..CoreParams::default()
            },
            Box::new(String::new),
        );
        let now = |mono_ms| Now {
            mono_ms,
            wall_secs: 1_700_000_000,
        };
        core.start(now(0));
        let mut msg = Message::new();
        for (k, v) in [
            ("t", "status"),
            ("st", "up"),
            ("src", "bravo"),
            ("seq", "1"),
            ("hg", "1"),
            ("ts", "6553f100"),
            ("protocol", "1"),
        ] {
            msg.push_str(k, v);
        }
        core.handle(now(1000), Input::Packet { link: 1, msg });
        let ctx = ViewContext {
            now_ms: 1250,
            ..ViewContext::default()
        };
        let view = view_from_core(&core, &ctx);
        let bravo = view.node("bravo").expect("bravo");
        let ages: Vec<Option<u64>> = bravo.links.iter().map(|l| l.last_heard_ms).collect();
        assert_eq!(ages, vec![None, Some(250)]);
    }
}
