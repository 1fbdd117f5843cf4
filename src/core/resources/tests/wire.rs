//! Every message type we send, through the core, carries its fields in the
//! order real 3.0.6 nodes use (wire-samples/bcast-*; `auth` is the daemon's).

use super::*;
use crate::core::resources::{standby_request, takeover_request};

fn names(m: &Message) -> Vec<&str> {
    m.fields.iter().map(|f| f.name.as_str()).collect()
}

const TAIL: [&str; 7] = ["src", "srcuuid", "seq", "hg", "ts", "ld", "ttl"];

fn expect(head: &[&str], dest: bool) -> Vec<String> {
    let mut v: Vec<String> = head.iter().map(|s| s.to_string()).collect();
    if dest {
        v.push("destuuid".into());
    }
    v.extend(TAIL.iter().map(|s| s.to_string()));
    v
}

#[test]
fn field_orders_match_real_packets() {
    let mut n = Node::alone("alpha", &two_groups(), AutoFailback::On, opts(true));
    n.finish_all_jobs();
    n.advance(11_000);
    n.fifo(standby_request(None).unwrap());
    n.fifo(takeover_request(None).unwrap());
    // Nobody answers the standby request: it times out, then we stop.
    n.advance(11_000);
    n.command(Command::Shutdown);
    n.finish_all_jobs();
    let mut seen = std::collections::BTreeMap::new();
    for a in &n.history {
        if let Action::Transmit(m) = a {
            let key = format!(
                "{} {}",
                m.msg_type().unwrap_or("?"),
                m.get_str("info").is_some()
            );
            seen.entry(key).or_insert_with(|| names(m).join(","));
        }
    }
    let cases = [
        ("starting false", expect(&["t"], false)),
        (
            "resource false",
            expect(&["t", "rsc_hold", "rtype", "isstable"], false),
        ),
        (
            "resource true",
            expect(&["t", "rsc_hold", "rtype", "isstable", "info"], false),
        ),
        (
            "ip-request-resp false",
            expect(&["t", "dest", "ipaddr", "weown", "ok"], true),
        ),
        ("stonith false", expect(&["t", "node", "result"], false)),
        (
            "ask_resources true",
            expect(&["t", "rsc_hold", "info"], false),
        ),
        ("hb_takeover false", expect(&["t", "rsc_hold"], false)),
        ("shutdone false", expect(&["t", "st"], false)),
    ];
    for (key, want) in cases {
        assert_eq!(seen.get(key), Some(&want.join(",")), "{key}");
    }
}
