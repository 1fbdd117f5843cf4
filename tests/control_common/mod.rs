//! Support for the control tests: fixture views mirroring the recorded real
//! cluster (tests/data/control/real), a tiny mio loop serving our
//! `ApiServer` in a thread, and output normalisation.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use heartbeat_rs::config::model::HaCf;
use heartbeat_rs::control::auth::{ApiAuthz, AuthRule};
use heartbeat_rs::control::params::api_parameters;
use heartbeat_rs::control::requests::{answer_cstatus_query, T_QCSTATUS};
use heartbeat_rs::control::{ApiAction, ApiServer, ClusterView, LinkView, NodeView};
use mio::{Events, Poll, Token, Waker};

pub const REAL_VERSION: &str = "3.0.6 (node: 958e11be8686759f1b99204c17812f2c2633b169)";

pub fn real_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/control/real")
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hbrs-control-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// tests/data/lab/bcast/ha.cf, parsed.
pub fn lab_hacf() -> HaCf {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lab/bcast/ha.cf");
    let content = std::fs::read(&path).expect("tests/data/lab/bcast/ha.cf");
    let parsed = heartbeat_rs::config::hacf::parse(&content, &path);
    assert!(!parsed.diagnostics.has_errors(), "lab ha.cf does not parse");
    parsed.value
}

/// The view of node alpha in the recorded states `both-active` and
/// `peer-dead`.
pub fn lab_view(state: &str) -> ClusterView {
    let peer_dead = state == "peer-dead";
    let mut view = ClusterView::new("alpha", REAL_VERSION);
    view.deadtime_ms = 3000;
    view.keepalive_ms = 500;
    view.logfacility = 0;
    view.params = api_parameters(&lab_hacf(), 0, "3.0.6");
    view.rsc_hold = if peer_dead { "all" } else { "local" }.into();
    for name in ["alpha", "bravo"] {
        let dead = peer_dead && name == "bravo";
        let mut node = NodeView::normal(name, if dead { "dead" } else { "active" });
        node.links.push(LinkView {
            name: "eth0".into(),
            status: if dead { "dead" } else { "up" }.into(),
            last_heard_ms: None,
        });
        view.nodes.push(node);
    }
    view
}

/// `apiauth anon` as Heartbeat's default (uid root, gid haclient = 106 in
/// the recordings), or one nobody here matches.
pub fn authz(refuse_everyone: bool) -> ApiAuthz {
    let (uids, gids) = if refuse_everyone {
        (vec![4_000_000], vec![4_000_000])
    } else {
        (vec![0], vec![106])
    };
    ApiAuthz::from_rules(vec![AuthRule {
        client: "anon".into(),
        uids,
        gids,
    }])
}

const WAKE: Token = Token(0);
const API_BASE: usize = 100;

enum Cmd {
    Stop,
    Deliver(heartbeat_rs::wire::Message),
    /// (signed-on clients, connections)
    Count(mpsc::Sender<(usize, usize)>),
}

/// Our ApiServer on a mio loop in a thread. Cluster messages it wants sent
/// are collected; `query-cstatus` is answered as the named peer would
/// (no clients online there).
pub struct TestServer {
    pub path: PathBuf,
    dir: PathBuf,
    waker: Arc<Waker>,
    stop: mpsc::Sender<Cmd>,
    thread: Option<JoinHandle<Vec<ApiAction>>>,
}

impl TestServer {
    pub fn start(view: ClusterView, authz: ApiAuthz) -> TestServer {
        TestServer::start_with(view, authz, None)
    }

    /// With a shorter stall limit than the daemon's 10 s.
    pub fn start_with(view: ClusterView, authz: ApiAuthz, stall_ms: Option<u64>) -> TestServer {
        let dir = temp_dir("api");
        let path = dir.join("register");
        let poll = Poll::new().expect("poll");
        let waker = Arc::new(Waker::new(poll.registry(), WAKE).expect("waker"));
        let mut server = ApiServer::bind(&path, authz, API_BASE).expect("bind");
        if let Some(ms) = stall_ms {
            server.set_stall_ms(ms);
        }
        server.register(poll.registry()).expect("register");
        let (stop, commands) = mpsc::channel();
        let thread = std::thread::spawn(move || serve(poll, server, view, commands));
        TestServer {
            path,
            dir,
            waker,
            stop,
            thread: Some(thread),
        }
    }

    /// Hands a cluster message to the server's clients.
    pub fn deliver(&self, msg: heartbeat_rs::wire::Message) {
        let _ = self.stop.send(Cmd::Deliver(msg));
        let _ = self.waker.wake();
    }

    /// (signed-on clients, open connections).
    pub fn counts(&self) -> (usize, usize) {
        let (tx, rx) = mpsc::channel();
        let _ = self.stop.send(Cmd::Count(tx));
        let _ = self.waker.wake();
        rx.recv_timeout(Duration::from_secs(5)).expect("counts")
    }

    /// Stops the loop; returns every action the server produced.
    pub fn stop(mut self) -> Vec<ApiAction> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Vec<ApiAction> {
        let _ = self.stop.send(Cmd::Stop);
        let _ = self.waker.wake();
        let actions = self
            .thread
            .take()
            .map(|t| t.join().expect("server thread"))
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(&self.dir);
        actions
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}

fn serve(
    mut poll: Poll,
    mut server: ApiServer,
    view: ClusterView,
    commands: mpsc::Receiver<Cmd>,
) -> Vec<ApiAction> {
    let start = Instant::now();
    let now_ms = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut events = Events::with_capacity(64);
    let mut all = Vec::new();
    'outer: loop {
        while let Ok(cmd) = commands.try_recv() {
            match cmd {
                Cmd::Stop => break 'outer,
                Cmd::Deliver(msg) => {
                    let more = server.deliver(poll.registry(), &msg, now_ms());
                    all.extend(more);
                }
                Cmd::Count(tx) => {
                    let _ = tx.send((server.client_count(), server.connection_count()));
                }
            }
        }
        if poll
            .poll(&mut events, Some(Duration::from_millis(50)))
            .is_err()
        {
            continue;
        }
        let mut actions = Vec::new();
        for event in events.iter() {
            if server.owns(event.token()) {
                actions.extend(server.handle_event(
                    poll.registry(),
                    event.token(),
                    &view,
                    now_ms(),
                ));
            }
        }
        actions.extend(server.sweep(poll.registry(), now_ms()));
        for action in &actions {
            if let ApiAction::SendCluster(msg) = action {
                if msg.msg_type() == Some(T_QCSTATUS) {
                    let mut query = msg.clone();
                    query.set_str("src", &view.local_node);
                    if let Some(mut answer) = answer_cstatus_query(&query, &|_| false) {
                        // What the peer's daemon adds before sending.
                        answer.set_str("src", query.get_str("dest").unwrap_or(""));
                        let more = server.deliver(poll.registry(), &answer, now_ms());
                        all.extend(more);
                    }
                }
            }
        }
        all.extend(actions);
    }
    server.close(poll.registry());
    all
}

/// One run of a cl_status binary.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    pub out: String,
    pub err: String,
    pub rc: i32,
}

/// Runs our cl_status with `args` against `socket`.
pub fn our_cl_status(socket: &Path, args: &[&str]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cl_status"))
        .args(args)
        .env("HA_API_SOCKET", socket)
        .output()
        .expect("run cl_status");
    Run {
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: normalize_err(&String::from_utf8_lossy(&out.stderr)),
        rc: out.status.code().unwrap_or(-1),
    }
}

/// The recorded run `real/STATE/NAME.{out,err,rc}` (stderr normalised the
/// same way as ours).
pub fn recorded(state: &str, name: &str) -> Run {
    let base = real_dir().join(state).join(name);
    let read = |ext: &str| {
        let p = base.with_extension(ext);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    Run {
        out: read("out"),
        err: normalize_err(&read("err")),
        rc: read("rc").trim().parse().expect("rc"),
    }
}

/// `Nov 22 03:58:35 alpha cl_status: [26220]: ` -> `<TS> <HOST> cl_status: [<PID>]: `
/// (the recordings already carry `<TS>` and `<PID>`).
pub fn normalize_err(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some((head, rest)) = line.split_once(" cl_status: [") else {
                return line.to_string();
            };
            let Some((_, tail)) = rest.split_once("]: ") else {
                return line.to_string();
            };
            let is_ts = head.starts_with("<TS> ")
                || head.len() > 16 && head.as_bytes().get(15) == Some(&b' ');
            if is_ts {
                format!("<TS> <HOST> cl_status: [<PID>]: {tail}")
            } else {
                line.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// `NAME|ARGS` cases of tests/harness/record-cl_status.sh.
pub fn recorded_cases() -> Vec<(String, Vec<String>)> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/harness/record-cl_status.sh");
    let text = std::fs::read_to_string(&script).expect("record script");
    let start = text.find("CASES=(").expect("CASES");
    let body = text.get(start..).expect("CASES body");
    let end = body.find("\n)").expect("CASES end");
    body.get(..end)
        .expect("CASES")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let l = l.trim().trim_matches('"');
            let (name, args) = l.split_once('|')?;
            Some((
                name.to_string(),
                args.split_whitespace().map(String::from).collect(),
            ))
        })
        .collect()
}
