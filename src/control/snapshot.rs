//! Our `x-status` API request: the whole [`ClusterView`] in one reply as
//! flat indexed fields (`node.0=alpha`, `node.0.link.0=eth0`, ...), decoded
//! again by `cl_status --json` / `--prometheus`. A real Heartbeat answers
//! `x-status` with `result=badreq`. The `--json` document's schema is
//! `docs/cl_status-json.schema.json`.

use super::view::{ClusterView, GroupView, LinkView, NodeType, NodeView};
use crate::wire::Message;

/// Appends the view's fields to a reply.
pub fn add_view_fields(resp: &mut Message, view: &ClusterView) {
    resp.push_str("version", &view.version);
    resp.push_str("node", &view.local_node);
    if let Some(pid) = view.pid {
        resp.push_str("pid", &pid.to_string());
    }
    if let Some(uptime) = view.uptime_secs {
        resp.push_str("uptime", &uptime.to_string());
    }
    resp.push_str("deadtime", &view.deadtime_ms.to_string());
    resp.push_str("keepalive", &view.keepalive_ms.to_string());
    resp.push_str("rsc_hold", &view.rsc_hold);
    resp.push_str("nodes", &view.nodes.len().to_string());
    for (i, n) in view.nodes.iter().enumerate() {
        let p = format!("node.{i}");
        resp.push_str(&p, &n.name);
        resp.push_str(&format!("{p}.type"), n.nodetype.as_str());
        resp.push_str(&format!("{p}.st"), &n.status);
        resp.push_str(&format!("{p}.weight"), &n.weight.to_string());
        resp.push_str(&format!("{p}.site"), &n.site);
        resp.push_str(&format!("{p}.links"), &n.links.len().to_string());
        for (j, l) in n.links.iter().enumerate() {
            resp.push_str(&format!("{p}.link.{j}"), &l.name);
            resp.push_str(&format!("{p}.link.{j}.st"), &l.status);
            if let Some(age) = l.last_heard_ms {
                resp.push_str(&format!("{p}.link.{j}.heard"), &age.to_string());
            }
        }
    }
    resp.push_str("groups", &view.groups.len().to_string());
    for (i, g) in view.groups.iter().enumerate() {
        resp.push_str(&format!("group.{i}"), &g.key);
        resp.push_str(&format!("group.{i}.node"), &g.node);
        resp.push_str(&format!("group.{i}.state"), &g.state);
    }
    resp.push_str("counters", &view.counters.len().to_string());
    for (i, (name, value)) in view.counters.iter().enumerate() {
        resp.push_str(&format!("counter.{i}"), name);
        resp.push_str(&format!("counter.{i}.value"), &value.to_string());
    }
}

/// Lists in a reply are bounded by what fits in one message anyway.
const MAX_ITEMS: usize = 65_536;

struct Reader<'a>(&'a Message);

impl Reader<'_> {
    fn text(&self, name: &str) -> Result<String, String> {
        self.0
            .get_str(name)
            .map(str::to_string)
            .ok_or_else(|| format!("x-status reply lacks field {name}"))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, String> {
        let text = self.text(name)?;
        text.trim()
            .parse()
            .map_err(|_| format!("x-status field {name}={text} is not a number"))
    }

    fn optional<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.number(name).map(Some),
        }
    }

    fn count(&self, name: &str) -> Result<usize, String> {
        let n: usize = self.number(name)?;
        if n > MAX_ITEMS {
            return Err(format!("x-status field {name}={n} is too large"));
        }
        Ok(n)
    }
}

/// Rebuilds a view from an `x-status` reply (parameters are not carried).
pub fn view_from_fields(msg: &Message) -> Result<ClusterView, String> {
    let r = Reader(msg);
    let mut view = ClusterView::new(&r.text("node")?, &r.text("version")?);
    view.pid = r.optional("pid")?;
    view.uptime_secs = r.optional("uptime")?;
    view.deadtime_ms = r.number("deadtime")?;
    view.keepalive_ms = r.number("keepalive")?;
    view.rsc_hold = r.text("rsc_hold")?;
    for i in 0..r.count("nodes")? {
        let p = format!("node.{i}");
        let nodetype = match r.text(&format!("{p}.type"))?.as_str() {
            "ping" => NodeType::Ping,
            _ => NodeType::Normal,
        };
        let mut node = NodeView::normal(&r.text(&p)?, &r.text(&format!("{p}.st"))?);
        node.nodetype = nodetype;
        node.weight = r.number(&format!("{p}.weight"))?;
        node.site = r.text(&format!("{p}.site"))?;
        for j in 0..r.count(&format!("{p}.links"))? {
            node.links.push(LinkView {
                name: r.text(&format!("{p}.link.{j}"))?,
                status: r.text(&format!("{p}.link.{j}.st"))?,
                last_heard_ms: r.optional(&format!("{p}.link.{j}.heard"))?,
            });
        }
        view.nodes.push(node);
    }
    for i in 0..r.count("groups")? {
        view.groups.push(GroupView {
            key: r.text(&format!("group.{i}"))?,
            node: r.text(&format!("group.{i}.node"))?,
            state: r.text(&format!("group.{i}.state"))?,
        });
    }
    for i in 0..r.count("counters")? {
        view.counters.push((
            r.text(&format!("counter.{i}"))?,
            r.number(&format!("counter.{i}.value"))?,
        ));
    }
    Ok(view)
}

fn optional_number<T: std::fmt::Display>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_else(|| "null".into())
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The view as a JSON document (`cl_status --json`), one trailing newline.
/// Its shape is documented (and tested against real output) in
/// `docs/cl_status-json.schema.json`; keep the two in step.
pub fn render_json(view: &ClusterView) -> String {
    let nodes: Vec<String> = view
        .nodes
        .iter()
        .map(|n| {
            let links: Vec<String> = n
                .links
                .iter()
                .map(|l| {
                    format!(
                        "{{\"name\": {}, \"status\": {}, \"last_heard_ms\": {}}}",
                        json_string(&l.name),
                        json_string(&l.status),
                        optional_number(l.last_heard_ms)
                    )
                })
                .collect();
            format!(
                "    {{\"name\": {}, \"type\": {}, \"status\": {}, \"weight\": {}, \"site\": {}, \"links\": [{}]}}",
                json_string(&n.name),
                json_string(n.nodetype.as_str()),
                json_string(&n.status),
                n.weight,
                json_string(&n.site),
                links.join(", ")
            )
        })
        .collect();
    let groups: Vec<String> = view
        .groups
        .iter()
        .map(|g| {
            format!(
                "    {{\"key\": {}, \"node\": {}, \"state\": {}}}",
                json_string(&g.key),
                json_string(&g.node),
                json_string(&g.state)
            )
        })
        .collect();
    let counters: Vec<String> = view
        .counters
        .iter()
        .map(|(name, value)| format!("    {}: {value}", json_string(name)))
        .collect();
    let list = |items: &[String], open: char, close: char| {
        if items.is_empty() {
            format!("{open}{close}")
        } else {
            format!("{open}\n{}\n  {close}", items.join(",\n"))
        }
    };
    format!(
        "{{\n  \"version\": {},\n  \"local_node\": {},\n  \"pid\": {},\n  \"uptime_seconds\": {},\n  \"deadtime_ms\": {},\n  \"keepalive_ms\": {},\n  \"resources_held\": {},\n  \"nodes\": {},\n  \"groups\": {},\n  \"counters\": {}\n}}\n",
        json_string(&view.version),
        json_string(&view.local_node),
        optional_number(view.pid),
        optional_number(view.uptime_secs),
        view.deadtime_ms,
        view.keepalive_ms,
        json_string(&view.rsc_hold),
        list(&nodes, '[', ']'),
        list(&groups, '[', ']'),
        list(&counters, '{', '}'),
    )
}

fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `[a-zA-Z0-9_]` only, as Prometheus metric names require.
fn metric_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn node_is_up(status: &str) -> bool {
    matches!(status, "active" | "up" | "ping")
}

/// The view in the Prometheus text exposition format (`cl_status --prometheus`).
pub fn render_prometheus(view: &ClusterView) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, String)>| {
        out.push_str(&format!(
            "# HELP heartbeat_{name} {help}\n# TYPE heartbeat_{name} {kind}\n"
        ));
        for (labels, value) in samples {
            out.push_str(&format!("heartbeat_{name}{labels} {value}\n"));
        }
    };
    let local = label(&view.local_node);
    family(
        "info",
        "gauge",
        "Daemon version and local node.",
        vec![(
            format!("{{version={},node={local}}}", label(&view.version)),
            "1".into(),
        )],
    );
    family(
        "uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        view.uptime_secs
            .map(|u| (String::new(), u.to_string()))
            .into_iter()
            .collect(),
    );
    family(
        "deadtime_seconds",
        "gauge",
        "Configured deadtime.",
        vec![(
            String::new(),
            format!("{}", view.deadtime_ms as f64 / 1000.0),
        )],
    );
    family(
        "keepalive_seconds",
        "gauge",
        "Configured keepalive interval.",
        vec![(
            String::new(),
            format!("{}", view.keepalive_ms as f64 / 1000.0),
        )],
    );
    family(
        "node_up",
        "gauge",
        "1 if the node is up, active or a live ping node.",
        view.nodes
            .iter()
            .map(|n| {
                (
                    format!(
                        "{{node={},type={},status={}}}",
                        label(&n.name),
                        label(n.nodetype.as_str()),
                        label(&n.status)
                    ),
                    u8::from(node_is_up(&n.status)).to_string(),
                )
            })
            .collect(),
    );
    family(
        "link_up",
        "gauge",
        "1 if heartbeats arrive from the node on this link.",
        view.nodes
            .iter()
            .flat_map(|n| {
                n.links.iter().map(move |l| {
                    (
                        format!("{{node={},link={}}}", label(&n.name), label(&l.name)),
                        u8::from(l.status == "up").to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        "link_last_heard_seconds",
        "gauge",
        "Seconds since a packet from the node was last heard on this link.",
        view.nodes
            .iter()
            .flat_map(|n| {
                n.links.iter().filter_map(move |l| {
                    l.last_heard_ms.map(|age| {
                        (
                            format!("{{node={},link={}}}", label(&n.name), label(&l.name)),
                            format!("{}", age as f64 / 1000.0),
                        )
                    })
                })
            })
            .collect(),
    );
    family(
        "resources_held",
        "gauge",
        "Which resources this node holds (none, local, foreign, all, transition).",
        ["none", "local", "foreign", "all", "transition"]
            .iter()
            .map(|s| {
                (
                    format!("{{held={}}}", label(s)),
                    u8::from(view.rsc_hold == *s).to_string(),
                )
            })
            .collect(),
    );
    family(
        "group_info",
        "gauge",
        "haresources groups, their home node and local state.",
        view.groups
            .iter()
            .map(|g| {
                (
                    format!(
                        "{{group={},node={},state={}}}",
                        label(&g.key),
                        label(&g.node),
                        label(&g.state)
                    ),
                    "1".into(),
                )
            })
            .collect(),
    );
    for (name, value) in &view.counters {
        family(
            &format!("{}_total", metric_name(name)),
            "counter",
            &format!("Daemon counter {name}."),
            vec![(String::new(), value.to_string())],
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ClusterView {
        let mut view = ClusterView::new("alpha", "3.0.6 (node: x)");
        view.pid = Some(42);
        view.uptime_secs = Some(7);
        view.deadtime_ms = 3000;
        view.keepalive_ms = 500;
        view.rsc_hold = "local".into();
        let mut a = NodeView::normal("alpha", "active");
        a.links.push(LinkView {
            name: "eth0".into(),
            status: "up".into(),
            last_heard_ms: Some(250),
        });
        let mut b = NodeView::normal("bravo", "dead");
        b.site = "x\"y".into();
        b.links.push(LinkView {
            name: "eth0".into(),
            status: "dead".into(),
            last_heard_ms: None,
        });
        view.nodes = vec![a, b];
        view.groups.push(GroupView {
            key: "labsvc".into(),
            node: "alpha".into(),
            state: "running".into(),
        });
        view.counters.push(("received".into(), 12));
        view
    }

    #[test]
    fn fields_round_trip() {
        let view = sample();
        let mut msg = Message::with_type("hbapi-resp");
        add_view_fields(&mut msg, &view);
        assert_eq!(view_from_fields(&msg), Ok(view));
    }

    #[test]
    fn bad_fields_are_errors() {
        let view = sample();
        let mut msg = Message::with_type("hbapi-resp");
        add_view_fields(&mut msg, &view);
        msg.set_str("nodes", "3");
        assert!(view_from_fields(&msg).is_err());
        msg.set_str("nodes", "99999999999");
        assert!(view_from_fields(&msg).is_err());
        assert!(view_from_fields(&Message::new()).is_err());
    }

    #[test]
    fn json_is_escaped_and_complete() {
        let json = render_json(&sample());
        assert!(json.contains("\"site\": \"x\\\"y\""), "{json}");
        assert!(json.contains("\"resources_held\": \"local\""));
        assert!(json.contains("\"received\": 12"));
        assert!(json.contains("{\"name\": \"eth0\", \"status\": \"up\", \"last_heard_ms\": 250}"));
        assert!(json.contains("\"status\": \"dead\", \"last_heard_ms\": null}"));
        assert!(json.ends_with("}\n"));
        let empty = render_json(&ClusterView::new("a", "v"));
        assert!(empty.contains("\"nodes\": []"), "{empty}");
        assert!(empty.contains("\"uptime_seconds\": null"), "{empty}");
        let mut msg = Message::with_type("hbapi-resp");
        add_view_fields(&mut msg, &ClusterView::new("a", "v"));
        assert_eq!(view_from_fields(&msg).map(|v| v.uptime_secs), Ok(None));
    }

    #[test]
    fn prometheus_samples() {
        let text = render_prometheus(&sample());
        for line in [
            "heartbeat_node_up{node=\"bravo\",type=\"normal\",status=\"dead\"} 0",
            "heartbeat_link_up{node=\"alpha\",link=\"eth0\"} 1",
            "heartbeat_resources_held{held=\"local\"} 1",
            "heartbeat_received_total 12",
            "heartbeat_deadtime_seconds 3",
            "heartbeat_link_last_heard_seconds{node=\"alpha\",link=\"eth0\"} 0.25",
            "# TYPE heartbeat_received_total counter",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
