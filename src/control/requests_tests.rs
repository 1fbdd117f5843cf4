use super::*;
use crate::control::auth::AuthRule;
use crate::control::view::LinkView;

fn view() -> ClusterView {
    let mut v = ClusterView::new("alpha", "3.0.6 (node: abc)");
    v.deadtime_ms = 3000;
    v.keepalive_ms = 500;
    v.logfacility = 0;
    v.rsc_hold = "local".into();
    v.params = vec![
        ("pacemaker".into(), "off".into()),
        ("deadtime".into(), "3".into()),
    ];
    for (name, st) in [("alpha", "active"), ("bravo", "dead")] {
        let mut n = NodeView::normal(name, st);
        n.links.push(LinkView {
            name: "eth0".into(),
            status: if st == "active" { "up" } else { "dead" }.into(),
            last_heard_ms: None,
        });
        n.links.push(LinkView {
            name: "eth1".into(),
            status: "up".into(),
            last_heard_ms: None,
        });
        n.uuid = Some([name.as_bytes()[0]; 16]);
        v.nodes.push(n);
    }
    let mut ping = NodeView::normal("10.0.0.1", "ping");
    ping.nodetype = NodeType::Ping;
    ping.links.push(LinkView {
        name: "10.0.0.1".into(),
        status: "up".into(),
        last_heard_ms: None,
    });
    v.nodes.push(ping);
    v
}

fn authz() -> ApiAuthz {
    ApiAuthz::from_rules(vec![
        AuthRule {
            client: "anon".into(),
            uids: vec![0],
            gids: vec![106],
        },
        AuthRule {
            client: "ipfail".into(),
            uids: vec![103],
            gids: vec![],
        },
    ])
}

fn signon_msg(pid: &str, from_id: &str, uid: &str, gid: &str) -> Message {
    let mut m = Message::with_type(T_APIREQ);
    for (n, v) in [
        ("reqtype", "signon"),
        ("dest", "alpha"),
        ("pid", pid),
        ("from_id", from_id),
        ("uid", uid),
        ("gid", gid),
    ] {
        m.push_str(n, v);
    }
    m
}

fn signon(msg: &Message, peer: PeerCred) -> SignonOutcome {
    let v = view();
    let a = authz();
    let taken = |id: &str| id == "taken";
    let alive = |pid: i32| pid == 42 || pid == 43;
    handle_signon(
        msg,
        &SignonCtx {
            view: &v,
            authz: &a,
            peer,
            generation: 7,
            id_taken: &taken,
            pid_alive: &alive,
        },
    )
}

fn names(m: &Message) -> Vec<String> {
    m.fields
        .iter()
        .map(|f| format!("{}={}", f.name, String::from_utf8_lossy(&f.value)))
        .collect()
}

const ROOT: PeerCred = PeerCred {
    pid: 42,
    uid: 0,
    gid: 0,
};

#[test]
fn signon_reply_fields_in_order() {
    let out = signon(&signon_msg("42", "42", "0", "0"), ROOT);
    let client = out.client.clone().expect("signed on");
    assert!(client.casual);
    assert_eq!(client.client_id, "42");
    assert_eq!(client.generation, 7);
    assert_eq!(out.handled.close, None);
    assert!(out.handled.to_cluster.is_empty());
    assert_eq!(
        names(&out.handled.replies[0]),
        vec![
            "t=hbapi-resp",
            "reqtype=signon",
            "result=OK",
            "deadtime=bb8",
            "keepalive=1f4",
            "node=alpha",
            "hbversion=3.0.6 (node: abc)",
            "pacemaker=off",
            "logfacility=0"
        ]
    );
}

#[test]
fn signon_refusals() {
    let cases = [
        (
            signon_msg("42", "42", "0", "0"),
            PeerCred {
                pid: 42,
                uid: 65534,
                gid: 65534,
            },
            "incorrect/false credentials",
        ),
        (
            signon_msg("42", "42", "65534", "65534"),
            PeerCred {
                pid: 42,
                uid: 65534,
                gid: 65534,
            },
            "client failed authorization",
        ),
        (signon_msg("99", "99", "0", "0"), ROOT, "bad pid"),
        (signon_msg("0", "0", "0", "0"), ROOT, "bad pid"),
        (
            signon_msg("42", "taken", "0", "0"),
            ROOT,
            "duplicate add request",
        ),
        (signon_msg("42", "42", "x", "0"), ROOT, "invalid id info"),
        (signon_msg("43", "43", "0", "0"), ROOT, "pid mismatch"),
        (
            signon_msg("42", "mystery", "0", "0"),
            ROOT,
            "no default client auth",
        ),
    ];
    for (msg, peer, reason) in cases {
        let out = signon(&msg, peer);
        assert!(out.client.is_none(), "{reason}");
        assert_eq!(out.handled.close.as_deref(), Some(reason));
        let reply = &out.handled.replies[0];
        assert_eq!(
            names(reply)[..4],
            [
                "t=hbapi-resp".to_string(),
                "reqtype=signon".into(),
                format!("info={reason}"),
                "result=badreq".into()
            ],
            "{reason}"
        );
        assert_eq!(reply.get_str("deadtime"), Some("bb8"));
    }
}

#[test]
fn signon_needs_a_signon_request() {
    let mut m = signon_msg("42", "42", "0", "0");
    m.set_str("reqtype", "nodelist");
    let out = signon(&m, ROOT);
    assert!(out.client.is_none() && out.handled.replies.is_empty());
    assert!(out.handled.close.is_some());
    let mut m = signon_msg("42", "42", "0", "0");
    m.remove("pid");
    m.remove("from_id");
    assert!(signon(&m, ROOT).handled.replies.is_empty());
}

#[test]
fn named_client_joins_the_cluster() {
    let peer = PeerCred {
        pid: 42,
        uid: 103,
        gid: 106,
    };
    let out = signon(&signon_msg("42", "ipfail", "103", "106"), peer);
    let client = out.client.expect("signed on");
    assert!(!client.casual);
    let join = &out.handled.to_cluster[0];
    assert_eq!(
        names(join),
        vec![
            "t=hbapi-clstat",
            "st=join",
            "from_id=ipfail",
            "to_id=ipfail",
            "src=alpha",
            "info=signon",
            "client_gen=7"
        ]
    );
}

fn casual() -> ClientInfo {
    ClientInfo {
        client_id: "42".into(),
        pid: 42,
        casual: true,
        uid: 0,
        gid: 106,
        generation: 1,
        desired_types: 1,
        signal: 0,
    }
}

fn request(reqtype: &str, fields: &[(&str, &str)]) -> Handled {
    let mut m = Message::with_type(T_APIREQ);
    m.push_str("reqtype", reqtype);
    m.push_str("dest", "alpha");
    m.push_str("pid", "42");
    m.push_str("from_id", "42");
    for (n, v) in fields {
        m.push_str(n, v);
    }
    let v = view();
    let online = |id: &str| id == "ipfail";
    let mut client = casual();
    handle_request(
        &m,
        &mut client,
        &RequestCtx {
            view: &v,
            client_online: &online,
            daemon_uid: 0,
        },
    )
}

fn reply(reqtype: &str, fields: &[(&str, &str)]) -> Vec<String> {
    let h = request(reqtype, fields);
    assert_eq!(h.replies.len(), 1, "{reqtype}: {h:?}");
    names(&h.replies[0])
}

fn ok(reqtype: &str, body: &[&str]) -> Vec<String> {
    let mut v = vec![format!("t=hbapi-resp"), format!("reqtype={reqtype}")];
    v.extend(body.iter().map(|s| s.to_string()));
    v
}

#[test]
fn node_queries() {
    assert_eq!(
        reply("nodestatus", &[("node", "bravo")]),
        ok("nodestatus", &["st=dead", "result=OK"])
    );
    assert_eq!(
        reply("nodetype", &[("node", "10.0.0.1")]),
        ok("nodetype", &["nodetype=ping", "result=OK"])
    );
    assert_eq!(
        reply("nodeweight", &[("node", "alpha")]),
        ok("nodeweight", &["weight=100", "result=OK"])
    );
    assert_eq!(
        reply("nodesite", &[("node", "alpha")]),
        ok("nodesite", &["site=", "result=OK"])
    );
    assert_eq!(
        reply("numnodes", &[]),
        ok("numnodes", &["numnodes=2", "result=OK"])
    );
    for q in ["nodestatus", "nodetype", "nodeweight", "nodesite", "iflist"] {
        assert_eq!(
            reply(q, &[("node", "nosuch")]),
            ok(q, &["result=badreq", "info=EINVAL"])
        );
        assert_eq!(reply(q, &[]), ok(q, &["result=badreq", "info=EINVAL"]));
    }
}

#[test]
fn lists_use_ok_more() {
    let h = request("nodelist", &[]);
    let all: Vec<Vec<String>> = h.replies.iter().map(names).collect();
    assert_eq!(
        all,
        vec![
            ok(
                "nodelist",
                &[
                    "node=alpha",
                    "nodetype=normal",
                    "st=active",
                    "result=ok/more"
                ]
            ),
            ok(
                "nodelist",
                &["node=bravo", "nodetype=normal", "st=dead", "result=ok/more"]
            ),
            ok(
                "nodelist",
                &["node=10.0.0.1", "nodetype=ping", "st=ping", "result=OK"]
            ),
        ]
    );
    let h = request("iflist", &[("node", "bravo")]);
    let all: Vec<Vec<String>> = h.replies.iter().map(names).collect();
    assert_eq!(
        all,
        vec![
            ok("iflist", &["ifname=eth0", "st=dead", "result=ok/more"]),
            ok("iflist", &["ifname=eth1", "st=up", "result=OK"]),
        ]
    );
    assert_eq!(
        reply("iflist", &[("node", "10.0.0.1")]),
        ok("iflist", &["ifname=10.0.0.1", "st=up", "result=OK"])
    );
}

#[test]
fn link_and_parameter_queries() {
    assert_eq!(
        reply("ifstatus", &[("node", "bravo"), ("ifname", "eth1")]),
        ok("ifstatus", &["st=up", "result=OK"])
    );
    assert_eq!(
        reply("ifstatus", &[("node", "bravo"), ("ifname", "eth9")]),
        ok("ifstatus", &["result=badreq", "info=EINVAL"])
    );
    assert_eq!(
        reply("getparm", &[("pname", "deadtime")]),
        ok("getparm", &["pvalue=3", "result=OK"])
    );
    assert_eq!(
        reply("getparm", &[("pname", "crm")]),
        ok("getparm", &["pvalue=off", "result=OK"])
    );
    assert_eq!(
        reply("getparm", &[("pname", "nosuch")]),
        ok("getparm", &["result=OK"])
    );
    assert_eq!(
        reply("getparm", &[]),
        ok("getparm", &["result=badreq", "info=EINVAL"])
    );
    assert_eq!(
        reply("getrsc", &[]),
        ok("getrsc", &["rsc_hold=local", "result=OK"])
    );
}

#[test]
fn uuid_queries() {
    let h = request("getuuid", &[("queryname", "bravo")]);
    assert_eq!(h.replies[0].get("queryuuid"), Some(&[b'b'; 16][..]));
    assert_eq!(
        reply("getuuid", &[("queryname", "nosuch")]),
        ok("getuuid", &["result=OK"])
    );
    let mut m = Message::with_type(T_APIREQ);
    m.push_str("reqtype", "getnodename");
    m.push_str("pid", "42");
    m.push("queryuuid", FT_BINARY, vec![b'b'; 16]);
    let v = view();
    let online = |_: &str| false;
    let h = handle_request(
        &m,
        &mut casual(),
        &RequestCtx {
            view: &v,
            client_online: &online,
            daemon_uid: 0,
        },
    );
    assert_eq!(h.replies[0].get_str("queryname"), Some("bravo"));
}

#[test]
fn clientstatus_local_dead_and_remote() {
    assert_eq!(
        reply("clientstatus", &[("node", "alpha"), ("cn", "ipfail")]),
        ok(
            "clientstatus",
            &["subt=respond-cstatus", "cs=online", "result=OK"]
        )
    );
    assert_eq!(
        reply("clientstatus", &[("node", "alpha"), ("cn", "foo")]),
        ok(
            "clientstatus",
            &["subt=respond-cstatus", "cs=offline", "result=OK"]
        )
    );
    assert_eq!(
        reply("clientstatus", &[("node", "bravo"), ("cn", "foo")]),
        ok(
            "clientstatus",
            &["subt=respond-cstatus", "cs=offline", "result=OK"]
        )
    );
    assert_eq!(
        reply("clientstatus", &[("node", "nosuch"), ("cn", "foo")]),
        ok("clientstatus", &["result=badreq", "info=EINVAL"])
    );
    // An active peer is asked over the cluster; no reply yet.
    let mut v = view();
    if let Some(b) = v.nodes.get_mut(1) {
        b.status = "active".into();
    }
    let mut m = Message::with_type(T_APIREQ);
    for (n, val) in [
        ("reqtype", "clientstatus"),
        ("pid", "42"),
        ("from_id", "42"),
        ("node", "bravo"),
        ("cn", "foo"),
    ] {
        m.push_str(n, val);
    }
    let online = |_: &str| false;
    let h = handle_request(
        &m,
        &mut casual(),
        &RequestCtx {
            view: &v,
            client_online: &online,
            daemon_uid: 0,
        },
    );
    assert!(h.replies.is_empty());
    assert_eq!(
        names(&h.to_cluster[0]),
        vec!["t=query-cstatus", "dest=bravo", "cn=foo", "from_id=42"]
    );
    // ...which the peer answers like heartbeat.c does.
    let mut query = h.to_cluster[0].clone();
    query.push_str("src", "alpha");
    let answer = answer_cstatus_query(&query, &|id| id == "foo").expect("answer");
    assert_eq!(
        names(&answer),
        vec![
            "t=respond-cstatus",
            "dest=alpha",
            "result=OK",
            "cn=foo",
            "to_id=42",
            "cs=online"
        ]
    );
    assert!(answer_cstatus_query(&Message::with_type(T_QCSTATUS), &|_| true).is_none());
}

#[test]
fn filters_signals_and_unknown_requests() {
    assert_eq!(
        reply("setfilter", &[("fmask", "1")]),
        ok("setfilter", &["result=OK"])
    );
    assert_eq!(
        reply("setfilter", &[("fmask", "x")]),
        ok("setfilter", &["result=badreq", "info=EINVAL"])
    );
    assert_eq!(
        reply("setsignal", &[("signal", "10")]),
        ok("setsignal", &["result=OK"])
    );
    assert_eq!(
        reply("setsignal", &[("signal", "9")]),
        ok("setsignal", &["result=badreq", "info=EINVAL"])
    );
    assert_eq!(reply("setsignal", &[]), ok("setsignal", &["result=badreq"]));
    assert_eq!(reply("bogus", &[]), ok("bogus", &["result=badreq"]));
    assert!(request("set_sendqlen", &[("sendqlen", "10")])
        .replies
        .is_empty());
}

#[test]
fn x_status_carries_the_view() {
    let h = request(API_XSTATUS, &[]);
    let r = &h.replies[0];
    assert_eq!(r.get_str("result"), Some("OK"));
    assert_eq!(r.fields.last().map(|f| f.name.as_str()), Some("result"));
    let back = crate::control::snapshot::view_from_fields(r).expect("decodes");
    assert_eq!(back.nodes.len(), 3);
    assert_eq!(back.rsc_hold, "local");
}

#[test]
fn signoff_closes_without_reply() {
    let h = request("signoff", &[]);
    assert!(h.replies.is_empty());
    assert_eq!(h.close.as_deref(), Some("signoff"));
}

#[test]
fn identity_and_shape_checks() {
    let v = view();
    let online = |_: &str| false;
    let ctx = RequestCtx {
        view: &v,
        client_online: &online,
        daemon_uid: 0,
    };
    // Someone else's pid and id: ignored.
    let mut m = Message::with_type(T_APIREQ);
    m.push_str("reqtype", "getrsc");
    m.push_str("pid", "7");
    m.push_str("from_id", "7");
    assert!(handle_request(&m, &mut casual(), &ctx).replies.is_empty());
    // No reqtype, no type: ignored.
    m.remove("reqtype");
    assert!(handle_request(&m, &mut casual(), &ctx).replies.is_empty());
    assert!(handle_request(&Message::new(), &mut casual(), &ctx)
        .replies
        .is_empty());
    // A cluster message from a casual client gets it dropped.
    let h = handle_request(&Message::with_type("ask_resources"), &mut casual(), &ctx);
    assert_eq!(h.close.as_deref(), Some("badclient"));
    // From a named client it is forwarded with its ids.
    let mut named = casual();
    named.casual = false;
    named.client_id = "ipfail".into();
    let h = handle_request(&Message::with_type("ipfail-ping"), &mut named, &ctx);
    assert_eq!(
        names(&h.to_cluster[0]),
        vec![
            "t=ipfail-ping",
            "from_id=ipfail",
            "to_id=ipfail",
            "client_gen=1"
        ]
    );
}

#[test]
fn strtol_like_c() {
    assert_eq!(c_strtol(" 42abc"), Some(42));
    assert_eq!(c_strtol("-7"), Some(-7));
    assert_eq!(c_strtol("+3"), Some(3));
    assert_eq!(c_strtol("abc"), None);
    assert_eq!(c_strtol(""), None);
    assert_eq!(c_strtol("99999999999999999999999"), Some(i64::MAX));
}

/// What Debian's ipfail writes (spec annex §1.7) goes to the cluster with
/// the fields of §1.6, in that order (the core adds the control fields).
#[test]
fn ipfail_messages_are_forwarded_as_heartbeat_does() {
    let v = view();
    let online = |_: &str| false;
    let ctx = RequestCtx {
        view: &v,
        client_online: &online,
        daemon_uid: 0,
    };
    let mut ipfail = ClientInfo {
        client_id: "ipfail".into(),
        pid: 27606,
        casual: false,
        uid: 103,
        gid: 106,
        generation: 37,
        desired_types: 1,
        signal: 0,
    };
    let mut m = Message::with_type("num_ping_nodes");
    m.push_str("src", "alpha");
    m.push_str("num_ping", "0");
    m.push_str("dest", "bravo");
    let h = handle_request(&m, &mut ipfail, &ctx);
    assert!(h.replies.is_empty() && h.close.is_none());
    assert_eq!(
        names(&h.to_cluster[0]),
        [
            "t=num_ping_nodes",
            "src=alpha",
            "num_ping=0",
            "dest=bravo",
            "from_id=ipfail",
            "to_id=ipfail",
            "client_gen=37"
        ]
    );
    let mut m = Message::with_type("ask_resources");
    m.push_str("rsc_hold", "all");
    m.push_str("src", "alpha");
    m.push_str("info", "me");
    let h = handle_request(&m, &mut ipfail, &ctx);
    assert_eq!(
        names(&h.to_cluster[0]),
        [
            "t=ask_resources",
            "rsc_hold=all",
            "src=alpha",
            "info=me",
            "from_id=ipfail",
            "to_id=ipfail",
            "client_gen=37"
        ]
    );
}
