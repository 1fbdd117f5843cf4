//! `cl_status`: sub-commands, options, output and exit codes of Heartbeat's
//! tools/cl_status.c (3.0.6), plus our `--json` and `--prometheus`.
//! The binary only wires stdout/stderr, the 5 s alarm and the exit code.

use std::io::Write;
use std::path::PathBuf;

use super::client::{ApiClient, IfEntry, NodeEntry, SignonError};
use super::getopt::{getopt, Opt, Parsed};
use super::snapshot::{render_json, render_prometheus, view_from_fields};
use super::view::{ClusterView, LinkView, NodeType, NodeView};
use crate::core::Level;
use crate::log::{file_line, LocalTime, Origin};

pub const OK: i32 = 0;
pub const NORMAL_FAIL: i32 = 1;
pub const PARAMETER_ERROR: i32 = 11;
pub const TIMEOUT: i32 = 12;
pub const UNKNOWN_ERROR: i32 = 13;

/// Seconds before cl_status gives up (exit [`TIMEOUT`]).
pub const ALARM_SECS: u64 = 5;

pub const HELP: &str = "Usage: cl_status <sub-command> [<options>] [<parameters>]

Sub-commands:
clientstatus <node-name> <client-id> [<timeout>]
\tShow the status of heartbeat clients.
hblinkstatus <node-name> <link-name>
\tShow the status of a heartbeat link
hbstatus
\tIndicate if heartbeat is running on the local system.
\tOptions:
\t\t-v\tverbose: also add \"listnodes -v\" output
listnodes [<option>]
\tList the nodes in the cluster.
\tOptions:
\t\t-p\tlist only 'ping' type nodes
\t\t-n\tlist only 'normal' type nodes
\t\t-v\tverbose: also list type and status,
\t\t\tthen add \"listhblinks -v\" output
listhblinks <node-name>
\tList the network interfaces used as hearbeat links.
\tOptions:
\t\t-v\tverbose: list link status as well
nodestatus <node-name>
\tList the node status.
nodeweight <node-name>
\tList the node weight.
nodesite <node-name>
\tList the node site.
nodetype <node-name>
\tList the nodes of a given type.
rscstatus
\tShow the status of cluster resources.
hbparameter -p <parameter-name>
\tRetrieve the value of a cluster parameter.
\tAs for the valid parameter names, please refer to the man page.
";

/// Where cl_status writes and whom it asks.
pub struct Env<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub socket: PathBuf,
    /// `uname -n` as is (for log lines).
    pub host: String,
    pub pid: u32,
    /// Wall clock seconds (for log lines).
    pub now_secs: i64,
}

/// Output goes to in-memory writers or pipes; a failed write cannot be
/// reported anywhere better, so it is ignored like printf's result.
macro_rules! say {
    ($w:expr, $($arg:tt)*) => {{
        let _ = write!($w, $($arg)*);
    }};
}

impl Env<'_> {
    /// `cl_log(LOG_ERR, …)` with stderr enabled.
    fn log(&mut self, text: &str) {
        let line = file_line(
            true,
            &LocalTime::from_unix(self.now_secs),
            &Origin {
                host: &self.host,
                entity: "cl_status",
                pid: self.pid,
            },
            Level::Error,
            text,
        );
        say!(self.err, "{line}");
    }

    fn reason(&mut self, hb: &ApiClient) {
        let text = format!("REASON: {}", hb.errmsg());
        self.log(&text);
    }
}

type CmdFn = fn(&mut Env<'_>, &mut Session, &[String]) -> i32;

struct Cmd {
    name: &'static str,
    run: CmdFn,
    needs_signon: bool,
}

const CMDS: &[Cmd] = &[
    Cmd {
        name: "hbstatus",
        run: hbstatus,
        needs_signon: false,
    },
    Cmd {
        name: "listnodes",
        run: listnodes,
        needs_signon: true,
    },
    Cmd {
        name: "nodestatus",
        run: nodestatus,
        needs_signon: true,
    },
    Cmd {
        name: "nodeweight",
        run: nodeweight,
        needs_signon: true,
    },
    Cmd {
        name: "nodesite",
        run: nodesite,
        needs_signon: true,
    },
    Cmd {
        name: "nodetype",
        run: nodetype,
        needs_signon: true,
    },
    Cmd {
        name: "listhblinks",
        run: listhblinks,
        needs_signon: true,
    },
    Cmd {
        name: "hblinkstatus",
        run: hblinkstatus,
        needs_signon: true,
    },
    Cmd {
        name: "clientstatus",
        run: clientstatus,
        needs_signon: true,
    },
    Cmd {
        name: "rscstatus",
        run: rscstatus,
        needs_signon: true,
    },
    Cmd {
        name: "hbparameter",
        run: hbparameter,
        needs_signon: true,
    },
    Cmd {
        name: "test",
        run: test,
        needs_signon: true,
    },
    Cmd {
        name: "--json",
        run: json,
        needs_signon: true,
    },
    Cmd {
        name: "--prometheus",
        run: prometheus,
        needs_signon: true,
    },
];

/// Every sub-command `cl_status` accepts (for the man page check).
pub fn command_names() -> impl Iterator<Item = &'static str> {
    CMDS.iter().map(|c| c.name)
}

/// The connection (or why there is none) and the `-m` flag.
struct Session {
    hb: Result<ApiClient, SignonError>,
    human: bool,
}

impl Session {
    fn client(&mut self) -> Option<&mut ApiClient> {
        self.hb.as_mut().ok()
    }
}

/// Runs cl_status with `args` (without the program name); returns the
/// exit code.
pub fn run(args: &[String], env: &mut Env<'_>) -> i32 {
    let Some(sub) = args.first() else {
        say!(env.out, "{HELP}");
        return OK;
    };
    if args.len() == 1 && sub == "-h" {
        say!(env.out, "{HELP}");
        return OK;
    }
    let Some(cmd) = CMDS.iter().find(|c| c.name == sub) else {
        env.log(&format!("{sub}: invalid sub-command."));
        return PARAMETER_ERROR;
    };
    let hb = ApiClient::signon(&env.socket);
    if let Err(e) = &hb {
        if cmd.needs_signon {
            env.log("Cannot signon with heartbeat");
            let text = format!("REASON: {}", e.reason);
            env.log(&text);
            return NORMAL_FAIL;
        }
    }
    let mut session = Session { hb, human: false };
    let code = (cmd.run)(env, &mut session, args);
    if let Ok(hb) = session.hb {
        hb.signoff();
    }
    code
}

/// `general_simple_opt_deal` and friends: applies `-m`, reports the first
/// bad option. Returns the parse or the exit code.
fn options(
    env: &mut Env<'_>,
    s: &mut Session,
    args: &[String],
    optstring: &str,
    code_word: bool,
) -> Result<Parsed, i32> {
    let parsed = getopt(args, optstring);
    let mut errors = parsed.errors.iter();
    for opt in &parsed.opts {
        match opt {
            Opt::Flag('m', _) => s.human = true,
            Opt::Flag(..) => {}
            Opt::Unknown => {
                if let Some(e) = errors.next() {
                    say!(env.err, "{e}\n");
                }
                env.log(if code_word {
                    "Error: getopt returnedcharacter code ?."
                } else {
                    "Error: getopt returnedcharacter ?."
                });
                return Err(PARAMETER_ERROR);
            }
        }
    }
    Ok(parsed)
}

fn has(parsed: &Parsed, c: char) -> bool {
    parsed
        .opts
        .iter()
        .any(|o| matches!(o, Opt::Flag(f, _) if *f == c))
}

/// The positional argument `i` (0-based) or the "not enough" message.
fn positional<'p>(
    env: &mut Env<'_>,
    parsed: &'p Parsed,
    count: usize,
    message: &str,
) -> Result<&'p [String], i32> {
    match parsed.positionals.get(..count) {
        Some(p) => Ok(p),
        None => {
            say!(env.err, "{message}\n");
            Err(PARAMETER_ERROR)
        }
    }
}

const NOT_ENOUGH: &str = "Not enough parameters.";
const NO_ENOUGH: &str = "No enough parameter.";

fn pacemaker_enabled(hb: &mut ApiClient) -> (bool, Option<String>) {
    let value = hb
        .get_parameter("pacemaker")
        .or_else(|| hb.get_parameter("crm"));
    let enabled = match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("false" | "off" | "no" | "n" | "0") => false,
        // Unset or any other word (e.g. `respawn`) counts as enabled.
        _ => true,
    };
    (enabled, value)
}

fn hbstatus(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = getopt(args, "mv");
    // hbstatus ignores unknown options after getopt complained.
    for e in &parsed.errors {
        say!(env.err, "{e}\n");
    }
    if has(&parsed, 'm') {
        s.human = true;
    }
    let verbose = has(&parsed, 'v');
    let hb = match &mut s.hb {
        Err(e) => {
            let code = if e.deadtime_ms == 0 {
                say!(env.out, "Heartbeat is stopped on this machine.\n");
                NORMAL_FAIL
            } else {
                say!(
                    env.out,
                    "Heartbeat is apparently running on this machine, but refuses my connection\n"
                );
                OK
            };
            if verbose && !e.reason.is_empty() {
                say!(env.out, "({})\n", e.reason);
            }
            return code;
        }
        Ok(hb) => hb,
    };
    if !verbose {
        say!(env.out, "Heartbeat is running on this machine.\n");
        return OK;
    }
    let version = hb.get_parameter("hbversion");
    let (enabled, pacemaker) = pacemaker_enabled(hb);
    if s.human {
        match &version {
            Some(v) => say!(env.out, "Heartbeat version {v}\n"),
            None => say!(env.out, "Heartbeat is running on this machine.\n"),
        }
        if enabled {
            say!(env.out, "Resources controlled by Pacemaker.\n");
        } else {
            say!(env.out, "Resources controlled by \"haresources\"\n");
        }
    } else {
        say!(
            env.out,
            "version:\t{}\n",
            version.as_deref().unwrap_or("unknown")
        );
        if enabled {
            say!(
                env.out,
                "managed by:\tpacemaker\t({})\n",
                pacemaker.as_deref().unwrap_or("(null)")
            );
        } else {
            say!(env.out, "managed by:\t\"haresources\"\n");
        }
    }
    // No CCM in a v1 cluster: the real tool's membership part prints nothing.
    list_nodes(env, s, false, false, true);
    OK
}

fn listnodes(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "mpnv", true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    list_nodes(
        env,
        s,
        has(&parsed, 'n'),
        has(&parsed, 'p'),
        has(&parsed, 'v'),
    )
}

/// `__listnodes`: the library keeps the node list in reverse reply order.
fn list_nodes(
    env: &mut Env<'_>,
    s: &mut Session,
    normal_only: bool,
    ping_only: bool,
    verbose: bool,
) -> i32 {
    let human = s.human;
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    let Some(mut nodes) = hb.nodelist() else {
        env.log("Cannot start node walk.");
        env.reason(hb);
        return UNKNOWN_ERROR;
    };
    nodes.reverse();
    let (normal_only, ping_only) = if normal_only && ping_only {
        (false, false)
    } else {
        (normal_only, ping_only)
    };
    if human {
        say!(env.out, "The nodes are as follow:\n");
    }
    for node in &nodes {
        if normal_only || ping_only {
            let t = node_type_of(hb, node);
            if normal_only && t.as_deref() != Some("normal") {
                continue;
            }
            if ping_only && t.as_deref() != Some("ping") {
                continue;
            }
        }
        if verbose {
            let status = match &node.status {
                Some(st) => Some(st.clone()),
                None => hb.node_status(&node.name),
            };
            let t = node_type_of(hb, node);
            say!(
                env.out,
                "\n{}\t{}\t(nodetype: {})\n",
                node.name,
                status.as_deref().unwrap_or("(null)"),
                t.as_deref().unwrap_or("(null)")
            );
            list_links(env, hb, human, &node.name, true);
        } else {
            say!(env.out, "{}\n", node.name);
        }
    }
    OK
}

fn node_type_of(hb: &mut ApiClient, node: &NodeEntry) -> Option<String> {
    match &node.nodetype {
        Some(t) => Some(t.clone()),
        None => hb.node_type(&node.name),
    }
}

/// `__listhblinks`.
fn list_links(
    env: &mut Env<'_>,
    hb: &mut ApiClient,
    human: bool,
    host: &str,
    verbose: bool,
) -> i32 {
    let Some(mut links) = hb.iflist(host) else {
        env.log("Cannot start heartbeat link interface walk.");
        env.reason(hb);
        return UNKNOWN_ERROR;
    };
    links.reverse();
    if human {
        say!(env.out, "\tthis node has the following heartbeat links:\n");
    }
    for IfEntry { name, status } in &links {
        if verbose {
            let status = match status {
                Some(st) => Some(st.clone()),
                None => hb.if_status(host, name),
            };
            say!(
                env.out,
                "\t{name}\t{}\n",
                status.as_deref().unwrap_or("(null)")
            );
        } else {
            say!(env.out, "\t{name}\n");
        }
    }
    OK
}

fn nodestatus(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match positional(env, &parsed, 1, NOT_ENOUGH) {
        Ok([node]) => node.clone(),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let Some(status) = s.client().and_then(|hb| hb.node_status(&node)) else {
        say!(env.err, "Error. May be due to incorrect node name\n");
        return PARAMETER_ERROR;
    };
    if s.human {
        say!(env.out, "The cluster node {node} is {status}\n");
    } else {
        say!(env.out, "{status}\n");
    }
    if matches!(status.as_str(), "active" | "up" | "ping") {
        OK
    } else {
        NORMAL_FAIL
    }
}

fn nodeweight(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match positional(env, &parsed, 1, NOT_ENOUGH) {
        Ok([node]) => node.clone(),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let weight = s.client().map(|hb| hb.node_weight(&node)).unwrap_or(-1);
    if weight == -1 {
        say!(env.err, "Error. Maybe due to incorrect node name.\n");
        return PARAMETER_ERROR;
    }
    // printf("%d") of an int.
    let weight = weight as i32;
    if s.human {
        say!(
            env.out,
            "The weight of the cluster node {node} is {weight}\n"
        );
    } else {
        say!(env.out, "{weight}\n");
    }
    OK
}

fn nodesite(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match positional(env, &parsed, 1, NOT_ENOUGH) {
        Ok([node]) => node.clone(),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let Some(site) = s.client().and_then(|hb| hb.node_site(&node)) else {
        say!(env.err, "Error. May be due to incorrect node name\n");
        return PARAMETER_ERROR;
    };
    if s.human {
        say!(env.out, "The site of the cluster node {node} is {site}\n");
    } else {
        say!(env.out, "{site}\n");
    }
    OK
}

fn nodetype(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match positional(env, &parsed, 1, NO_ENOUGH) {
        Ok([node]) => node.clone(),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let Some(t) = s.client().and_then(|hb| hb.node_type(&node)) else {
        say!(env.err, "Error. May be due to incorrect node name\n");
        return PARAMETER_ERROR;
    };
    if s.human {
        say!(env.out, "The node {node}'s type: {t}\n");
    } else {
        say!(env.out, "{t}\n");
    }
    OK
}

fn listhblinks(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "mv", true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let node = match positional(env, &parsed, 1, NO_ENOUGH) {
        Ok([node]) => node.clone(),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let human = s.human;
    match s.client() {
        Some(hb) => list_links(env, hb, human, &node, has(&parsed, 'v')),
        None => UNKNOWN_ERROR,
    }
}

fn hblinkstatus(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (node, ifname) = match positional(env, &parsed, 2, NO_ENOUGH) {
        Ok([node, ifname]) => (node.clone(), ifname.clone()),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let human = s.human;
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    let Some(status) = hb.if_status(&node, &ifname) else {
        env.log("Cannot get heartbeat link status");
        env.reason(hb);
        return UNKNOWN_ERROR;
    };
    if human {
        say!(
            env.out,
            "The node {node}'s heartbeat link {ifname} is {status}\n"
        );
    } else {
        say!(env.out, "{status}\n");
    }
    if status == "up" {
        OK
    } else {
        NORMAL_FAIL
    }
}

fn clientstatus(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "m", false) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let (node, cname) = match positional(env, &parsed, 2, NO_ENOUGH) {
        Ok([node, cname]) => (node.clone(), cname.clone()),
        Ok(_) | Err(_) => return PARAMETER_ERROR,
    };
    let timeout = parsed
        .positionals
        .get(2)
        .map(|t| super::requests::c_strtol(t).unwrap_or(0))
        .unwrap_or(500);
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    let Some(status) = hb.client_status(&node, &cname, timeout) else {
        env.log(&format!("Cannot get heartbeat client {cname}'s status"));
        env.reason(hb);
        return UNKNOWN_ERROR;
    };
    say!(env.out, "{status}\n");
    match status.as_str() {
        "online" => OK,
        "offline" => NORMAL_FAIL,
        "join" => 2,
        "leave" => 3,
        _ => UNKNOWN_ERROR,
    }
}

fn rscstatus(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    if let Err(code) = options(env, s, args, "m", false) {
        return code;
    }
    let human = s.human;
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    if pacemaker_enabled(hb).0 {
        env.log("Cannot get cluster resource status of a pacemaker cluster; try crm_mon");
        return NORMAL_FAIL;
    }
    let Some(held) = hb.get_resources() else {
        env.log("Cannot get cluster resource status");
        env.reason(hb);
        return UNKNOWN_ERROR;
    };
    if human {
        say!(env.out, "This node is holding {held} resources.\n");
    } else {
        say!(env.out, "{held}\n");
    }
    OK
}

fn hbparameter(env: &mut Env<'_>, s: &mut Session, args: &[String]) -> i32 {
    let parsed = match options(env, s, args, "mp:", true) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let name = parsed.opts.iter().rev().find_map(|o| match o {
        Opt::Flag('p', Some(v)) => Some(v.clone()),
        _ => None,
    });
    let Some(name) = name else {
        env.log("parameter name required");
        return PARAMETER_ERROR;
    };
    let human = s.human;
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    let Some(value) = hb.get_parameter(&name) else {
        env.log(&format!("Cannot get parameter {name}'s value"));
        env.reason(hb);
        return NORMAL_FAIL;
    };
    if human {
        say!(env.out, "Heartbeat parameter {name}'s value: {value}\n");
    } else {
        say!(env.out, "{value}\n");
    }
    OK
}

fn test(env: &mut Env<'_>, s: &mut Session, _args: &[String]) -> i32 {
    let Some(hb) = s.client() else {
        return UNKNOWN_ERROR;
    };
    let info = hb.info.clone();
    let held = hb.get_resources();
    // The C tool prints these as `int`.
    say!(
        env.out,
        "Dead time: {}\n keeplive time: {}\n mynodeid: {}\n rsc: {}\n",
        info.deadtime_ms as i32,
        info.keepalive_ms as i32,
        info.node,
        held.as_deref().unwrap_or("(null)")
    );
    OK
}

/// The snapshot: our `x-status` request, or for a daemon without it (a real
/// Heartbeat) what the standard requests tell.
fn snapshot(env: &mut Env<'_>, s: &mut Session) -> Option<ClusterView> {
    let hb = s.client()?;
    if let Some(reply) = hb.x_status() {
        if reply.get_str("result") == Some(super::requests::API_OK) {
            return match view_from_fields(&reply) {
                Ok(view) => Some(view),
                Err(e) => {
                    env.log(&e);
                    None
                }
            };
        }
    }
    say!(
        env.err,
        "cl_status: this heartbeat has no x-status request; uptime, counters and groups are unknown\n"
    );
    let info = hb.info.clone();
    let mut view = ClusterView::new(&info.node, info.hbversion.as_deref().unwrap_or("unknown"));
    view.deadtime_ms = info.deadtime_ms;
    view.keepalive_ms = info.keepalive_ms;
    view.logfacility = info.logfacility;
    view.rsc_hold = hb.get_resources().unwrap_or_default();
    for entry in hb.nodelist()? {
        let status = match entry.status {
            Some(st) => st,
            None => hb.node_status(&entry.name).unwrap_or_default(),
        };
        let mut node = NodeView::normal(&entry.name, &status);
        let nodetype = match entry.nodetype {
            Some(t) => Some(t),
            None => hb.node_type(&entry.name),
        };
        if nodetype.as_deref() == Some("ping") {
            node.nodetype = NodeType::Ping;
        }
        node.weight = i32::try_from(hb.node_weight(&entry.name)).unwrap_or(-1);
        node.site = hb.node_site(&entry.name).unwrap_or_default();
        for link in hb.iflist(&entry.name).unwrap_or_default() {
            let status = match link.status {
                Some(st) => st,
                None => hb.if_status(&entry.name, &link.name).unwrap_or_default(),
            };
            node.links.push(LinkView {
                name: link.name,
                status,
                last_heard_ms: None,
            });
        }
        view.nodes.push(node);
    }
    Some(view)
}

fn json(env: &mut Env<'_>, s: &mut Session, _args: &[String]) -> i32 {
    match snapshot(env, s) {
        Some(view) => {
            say!(env.out, "{}", render_json(&view));
            OK
        }
        None => UNKNOWN_ERROR,
    }
}

fn prometheus(env: &mut Env<'_>, s: &mut Session, _args: &[String]) -> i32 {
    match snapshot(env, s) {
        Some(view) => {
            say!(env.out, "{}", render_prometheus(&view));
            OK
        }
        None => UNKNOWN_ERROR,
    }
}
