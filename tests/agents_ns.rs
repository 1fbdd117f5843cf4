//! heartbeat-rs' own resource.d scripts, run inside lab hosts (never on the
//! real machine): each one start → status says running → stop → status says
//! stopped, judged by the same rule as our runner and Heartbeat's
//! ResourceManager, and checked against the real effect (address on eth0,
//! gratuitous ARP on the wire seen by another host, route source, mount,
//! web page, recorded `mail`/`drbdadm` calls). Last, our daemon runs a group
//! of these scripts in a two-node cluster and moves it on failover.

mod common;

use common::cluster::ha_log;
use common::lab::{
    data_dir, pid_alive, repo_dir, require_lab, require_real_heartbeat, wait_for, Lab,
};
use heartbeat_rs::runner::status_says_running;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SHORT: Duration = Duration::from_secs(10);
const LONG: Duration = Duration::from_secs(30);

fn script(name: &str) -> String {
    repo_dir()
        .join("resource.d")
        .join(name)
        .display()
        .to_string()
}

fn agents_data(rel: &str) -> String {
    repo_dir()
        .join("tests/data/agents")
        .join(rel)
        .display()
        .to_string()
}

/// One call `SCRIPT ARGS... OP` inside host `host` with `env` (K=V) added;
/// returns stdout and the exit code. Bounded: a hung agent fails the test.
fn call(
    lab: &Lab,
    host: usize,
    env: &[&str],
    name: &str,
    args: &[&str],
    op: &str,
) -> (String, i32) {
    let path = script(name);
    let mut argv = vec!["timeout", "60", "env"];
    argv.extend(env);
    argv.push(&path);
    argv.extend(args);
    argv.push(op);
    let out = lab.exec(host, &argv);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    assert_ne!(
        code,
        124,
        "{name} {args:?} {op} timed out:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (stdout, code)
}

/// The script's status, as ResourceManager judges it (stdout only).
fn owned(lab: &Lab, host: usize, env: &[&str], name: &str, args: &[&str]) -> bool {
    let (stdout, _) = call(lab, host, env, name, args, "status");
    status_says_running(stdout.as_bytes())
}

/// A resource under test: its script and how to see it really runs.
struct Case<'a> {
    name: &'a str,
    args: &'a [&'a str],
    env: &'a [&'a str],
    /// The resource's effect is present in the host.
    effect: &'a dyn Fn() -> bool,
}

/// stopped → start → running (status and effect) → stop → stopped (both);
/// a second stop must succeed too (Heartbeat reboots on a failing stop).
fn cycle(lab: &Lab, host: usize, c: &Case) {
    let Case {
        name, args, env, ..
    } = *c;
    let what = format!("{name} {args:?}");
    assert!(
        !owned(lab, host, env, name, args),
        "{what}: running before start"
    );
    assert!(!(c.effect)(), "{what}: effect present before start");
    let (out, code) = call(lab, host, env, name, args, "start");
    assert_eq!(code, 0, "{what} start failed:\n{out}");
    assert!(
        owned(lab, host, env, name, args),
        "{what}: status after start: {:?}",
        call(lab, host, env, name, args, "status")
    );
    assert!(wait_for(c.effect, SHORT), "{what}: no effect after start");
    let (out, code) = call(lab, host, env, name, args, "stop");
    assert_eq!(code, 0, "{what} stop failed:\n{out}");
    let (status, _) = call(lab, host, env, name, args, "status");
    assert!(
        !status_says_running(status.as_bytes()),
        "{what}: status after stop: {status}"
    );
    assert!(
        wait_for(|| !(c.effect)(), SHORT),
        "{what}: effect left after stop"
    );
    let (out, code) = call(lab, host, env, name, args, "stop");
    assert_eq!(code, 0, "{what}: a second stop failed:\n{out}");
}

fn has_addr(lab: &Lab, host: usize, ip: &str) -> bool {
    lab.exec_stdout(host, &["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
        .contains(&format!("inet {ip}/"))
}

/// tcpdump printing every ARP frame host `host` sees on eth0 into its
/// /var/log/arp.txt; returns once it listens.
fn watch_arp(lab: &Lab, host: usize) {
    lab.run(
        host,
        None,
        None,
        &[
            "sh",
            "-c",
            "exec tcpdump -i eth0 -nn -l arp >/var/log/arp.txt 2>&1",
        ],
    );
    let file = lab.file(host, "/var/log/arp.txt");
    assert!(
        wait_for(
            || fs::read_to_string(&file).is_ok_and(|t| t.contains("listening on")),
            SHORT
        ),
        "tcpdump did not start in h{host}: {:?}",
        fs::read_to_string(&file)
    );
}

/// A gratuitous ARP for `ip` (request "who-has IP tell IP" or reply "IP is-at")
/// in host `host`'s tcpdump output.
fn garp_seen(lab: &Lab, host: usize, ip: &str) -> bool {
    let text = fs::read_to_string(lab.file(host, "/var/log/arp.txt")).unwrap_or_default();
    text.lines().any(|l| {
        l.contains(&format!("who-has {ip} tell {ip},")) || l.contains(&format!("Reply {ip} is-at"))
    })
}

#[test]
fn ipaddr2_ipaddr_and_sendarp_with_gratuitous_arp_on_the_wire() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("agents-ip", 2);
    watch_arp(&lab, 2);
    for (name, spec, ip) in [
        (
            "IPaddr2",
            "198.18.0.100/24/eth0/198.18.0.255",
            "198.18.0.100",
        ),
        ("IPaddr", "198.18.0.101/24/eth0", "198.18.0.101"),
    ] {
        let effect = || has_addr(&lab, 1, ip);
        cycle(
            &lab,
            1,
            &Case {
                name,
                args: &[spec],
                env: &[],
                effect: &effect,
            },
        );
        assert!(
            wait_for(|| garp_seen(&lab, 2, ip), SHORT),
            "{name}: no gratuitous ARP for {ip} seen from h2:\n{}",
            fs::read_to_string(lab.file(2, "/var/log/arp.txt")).unwrap_or_default()
        );
    }
    // SendArp announces an address the host already has (its own here).
    let effect = || garp_seen(&lab, 2, "198.18.0.1");
    assert!(!effect(), "ARP for 198.18.0.1 before SendArp ran");
    let args = ["198.18.0.1/eth0"];
    let (out, code) = call(&lab, 1, &[], "SendArp", &args, "start");
    assert_eq!(code, 0, "SendArp start: {out}");
    assert!(owned(&lab, 1, &[], "SendArp", &args));
    assert!(wait_for(effect, SHORT), "no ARP from SendArp seen in h2");
    let (out, code) = call(&lab, 1, &[], "SendArp", &args, "stop");
    assert_eq!(code, 0, "SendArp stop: {out}");
    assert!(!owned(&lab, 1, &[], "SendArp", &args));
}

#[test]
fn ipsrcaddr_makes_the_address_the_routes_source() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("agents-src", 1);
    for cmd in [
        &["ip", "addr", "add", "198.18.0.102/24", "dev", "eth0"][..],
        &["ip", "route", "add", "default", "via", "198.18.0.254"][..],
    ] {
        let out = lab.exec(1, cmd);
        assert!(out.status.success(), "{cmd:?}: {out:?}");
    }
    let effect = || {
        lab.exec_stdout(1, &["ip", "route", "show", "default"])
            .contains("src 198.18.0.102")
    };
    cycle(
        &lab,
        1,
        &Case {
            name: "IPsrcaddr",
            args: &["198.18.0.102"],
            env: &[],
            effect: &effect,
        },
    );
}

#[test]
fn filesystem_mounts_a_tmpfs_in_the_host() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("agents-fs", 1);
    fs::create_dir_all(lab.file(1, "/srv/data")).expect("mkdir /srv/data");
    let effect = || {
        lab.exec_stdout(1, &["cat", "/proc/self/mounts"])
            .lines()
            .any(|l| l.starts_with("tmpfs /srv/data tmpfs "))
    };
    cycle(
        &lab,
        1,
        &Case {
            name: "Filesystem",
            args: &["tmpfs", "/srv/data", "tmpfs", "size=1m"],
            env: &[],
            effect: &effect,
        },
    );
    // never visible outside the host's mount namespace
    let ours = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    assert!(!ours.contains("/srv/data tmpfs"), "mount leaked: {ours}");
}

#[test]
fn apache_serves_the_hosts_srv() {
    if !require_lab() {
        return;
    }
    assert!(
        Path::new("/usr/sbin/apache2").exists(),
        "apache2 missing: run tests/harness/install-deps.sh"
    );
    let lab = Lab::new("agents-www", 1);
    fs::write(lab.file(1, "/srv/index.html"), "hbrs-agents-page\n").expect("write page");
    let effect = || {
        lab.exec_stdout(1, &["curl", "-s", "-m", "2", "http://127.0.0.1/index.html"])
            .contains("hbrs-agents-page")
    };
    let conf = agents_data("apache.conf");
    cycle(
        &lab,
        1,
        &Case {
            name: "apache",
            args: &[&conf],
            env: &[],
            effect: &effect,
        },
    );
}

/// The fake `mail` and `drbdadm` of tests/data/agents/bin record their calls here.
fn fake_calls(lab: &Lab) -> String {
    fs::read_to_string(lab.file(1, "/run/fake/calls")).unwrap_or_default()
}

#[test]
fn mailto_drbddisk_and_delay() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("agents-misc", 1);
    let path = format!("PATH={}:/usr/sbin:/usr/bin:/sbin:/bin", agents_data("bin"));
    let env = [path.as_str()];

    // MailTo: one mail on start, one on stop, to the given address and subject.
    let sent = |n: usize| fake_calls(&lab).matches("mail -s Failover").count() >= n;
    let (out, code) = call(
        &lab,
        1,
        &env,
        "MailTo",
        &["ops@example.org", "Failover"],
        "start",
    );
    assert_eq!(code, 0, "MailTo start: {out}");
    assert!(owned(
        &lab,
        1,
        &env,
        "MailTo",
        &["ops@example.org", "Failover"]
    ));
    assert!(sent(1), "no mail on start: {}", fake_calls(&lab));
    let (out, code) = call(
        &lab,
        1,
        &env,
        "MailTo",
        &["ops@example.org", "Failover"],
        "stop",
    );
    assert_eq!(code, 0, "MailTo stop: {out}");
    assert!(!owned(
        &lab,
        1,
        &env,
        "MailTo",
        &["ops@example.org", "Failover"]
    ));
    let calls = fake_calls(&lab);
    assert!(sent(2), "no mail on stop: {calls}");
    assert!(calls.contains("ops@example.org"), "{calls}");
    assert!(calls.contains("Takeover in progress"), "{calls}");

    // drbddisk: primary on start, secondary on stop, role asked by status.
    let role = || {
        fs::read_to_string(lab.file(1, "/run/fake/role-r0")).is_ok_and(|r| r.trim() == "Primary")
    };
    cycle(
        &lab,
        1,
        &Case {
            name: "drbddisk",
            args: &["r0"],
            env: &env,
            effect: &role,
        },
    );
    let calls = fake_calls(&lab);
    for expected in [
        "drbdadm primary r0",
        "drbdadm secondary r0",
        "drbdadm role r0",
    ] {
        assert!(calls.contains(expected), "no `{expected}` in:\n{calls}");
    }

    // Delay: start waits startdelay seconds, stop stopdelay; status at once.
    let t = std::time::Instant::now();
    let (out, code) = call(&lab, 1, &[], "Delay", &["2", "0"], "start");
    assert_eq!(code, 0, "Delay start: {out}");
    assert!(t.elapsed() >= Duration::from_secs(2), "Delay did not wait");
    let t = std::time::Instant::now();
    assert!(owned(&lab, 1, &[], "Delay", &["2", "0"]));
    let (out, code) = call(&lab, 1, &[], "Delay", &["2", "0"], "stop");
    assert_eq!(code, 0, "Delay stop: {out}");
    assert!(!owned(&lab, 1, &[], "Delay", &["2", "0"]));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "Delay status/stop too slow"
    );
}

#[test]
fn ocf_bridge_runs_a_test_agent_and_dummy() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("agents-ocf", 1);
    let root = format!("OCF_ROOT={}", agents_data("ocf"));
    let env = [root.as_str()];
    let state = lab.file(1, "/run/tiny.state");
    let effect = || state.exists();
    let args = ["hbrstest:tiny", "state=/run/tiny.state", "color=blue"];
    assert!(!effect());
    let (out, code) = call(&lab, 1, &env, "OCF", &args, "start");
    assert_eq!(code, 0, "OCF tiny start: {out}");
    // the agent saw each name=value as OCF_RESKEY_name
    let seen = fs::read_to_string(&state).unwrap_or_default();
    assert!(seen.contains("OCF_RESKEY_color=blue\n"), "{seen}");
    assert!(
        seen.contains("OCF_RESKEY_state=/run/tiny.state\n"),
        "{seen}"
    );
    call(&lab, 1, &env, "OCF", &args, "stop");
    // a parameter without '=' is refused before the agent runs
    let (_, code) = call(
        &lab,
        1,
        &env,
        "OCF",
        &["hbrstest:tiny", "state=/x", "oops"],
        "start",
    );
    assert_ne!(code, 0);
    let tiny = Case {
        name: "OCF",
        args: &args,
        env: &env,
        effect: &effect,
    };
    cycle(&lab, 1, &tiny);

    // A real agent of resource-agents, with parameters inline ...
    let dummy = lab.file(1, "/run/dummy.state");
    let effect = || dummy.exists();
    cycle(
        &lab,
        1,
        &Case {
            name: "OCF",
            args: &["Dummy", "state=/run/dummy.state"],
            env: &[],
            effect: &effect,
        },
    );
    // ... and in Heartbeat's instance file /etc/ha.d/conf/OCF/Dummy/NAME.
    let dir = lab.file(1, "/etc/ha.d/conf/OCF/Dummy");
    fs::create_dir_all(&dir).expect("mkdir conf/OCF");
    fs::write(
        dir.join("web"),
        "# instance file\nOCF_RESKEY_state=/run/dummy-web.state\n",
    )
    .expect("write instance file");
    let web = lab.file(1, "/run/dummy-web.state");
    let effect = || web.exists();
    cycle(
        &lab,
        1,
        &Case {
            name: "OCF",
            args: &["heartbeat:Dummy", "web"],
            env: &[],
            effect: &effect,
        },
    );
}

/// A copy of tests/data/lab/agents-e2e with our resource.d scripts in it
/// (lab.sh installs CONF/resource.d/* into the host's /etc/ha.d/resource.d,
/// over the copy of Debian's scripts the host starts with).
struct ConfCopy(PathBuf);

impl ConfCopy {
    fn new(tag: &str) -> ConfCopy {
        let dir = std::env::temp_dir().join(format!("hbrs-agents-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("resource.d")).expect("mkdir conf copy");
        for f in ["ha.cf", "authkeys", "haresources"] {
            fs::copy(data_dir().join("agents-e2e").join(f), dir.join(f)).expect("copy conf");
        }
        let ours = fs::read_dir(repo_dir().join("resource.d")).expect("read resource.d");
        for entry in ours.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().ends_with(".md") {
                fs::copy(entry.path(), dir.join("resource.d").join(&name)).expect("copy script");
            }
        }
        ConfCopy(dir)
    }
}

impl Drop for ConfCopy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn our_daemon_runs_and_fails_over_a_group_of_our_scripts() {
    if !require_lab() {
        return;
    }
    failover("agents-e2e", false);
}

/// The same with the real Heartbeat 3.0.6 as alpha: its ResourceManager
/// drives our scripts and judges their status output.
#[test]
fn real_heartbeat_runs_our_scripts_too() {
    if !require_real_heartbeat() {
        return;
    }
    failover("agents-real", true);
}

fn failover(tag: &str, alpha_real: bool) {
    // h3 runs no daemon: it only watches the wire
    let lab = Lab::new(tag, 3);
    let conf = ConfCopy::new(tag);
    for host in [1, 2] {
        fs::create_dir_all(lab.file(host, "/srv/e2e")).expect("mkdir /srv/e2e");
    }
    let holds = |host: usize| {
        let mounted = lab
            .exec_stdout(host, &["cat", "/proc/self/mounts"])
            .contains("tmpfs /srv/e2e tmpfs ");
        (
            has_addr(&lab, host, "198.18.0.100"),
            mounted,
            lab.file(host, "/run/hbrs-dummy.state").exists(),
        )
    };
    let audit = |step: &str, owner: usize| {
        let ok = wait_for(
            || holds(owner) == (true, true, true) && holds(3 - owner) == (false, false, false),
            LONG,
        );
        assert!(
            ok,
            "after {step}: want the group on h{owner} only; h1 = {:?}, h2 = {:?}\n--- h1\n{}\n--- h2\n{}",
            holds(1),
            holds(2),
            ha_log(&lab, 1),
            ha_log(&lab, 2)
        );
    };
    let alpha = if alpha_real {
        lab.run_real(1, &conf.0, "alpha")
    } else {
        lab.run_ours(1, "alpha", &conf.0, &["-f"])
    };
    lab.run_ours(2, "bravo", &conf.0, &["-f"]);
    audit("start", 1);
    // our scripts ran, not Debian's copies
    let installed =
        fs::read_to_string(lab.file(1, "/etc/ha.d/resource.d/IPaddr2")).unwrap_or_default();
    assert!(
        installed.contains("hbrs_ipspec"),
        "Debian's IPaddr2 is installed"
    );

    // alpha stops: it releases everything, bravo takes over and announces
    // the address with gratuitous ARPs.
    watch_arp(&lab, 3);
    lab.stop(1);
    assert!(!pid_alive(alpha), "alpha survived SIGTERM");
    audit("SIGTERM of alpha", 2);
    assert!(
        wait_for(|| garp_seen(&lab, 3, "198.18.0.100"), SHORT),
        "no gratuitous ARP from bravo after the takeover"
    );
    if alpha_real {
        // ResourceManager complains about a failed call or a stop it had
        // to second-guess
        let log = ha_log(&lab, 1);
        for bad in ["ERROR: Return code", "not LSB-compliant", "Cannot locate"] {
            assert!(!log.contains(bad), "real alpha logged {bad:?}:\n{log}");
        }
    }
}

/// Heartbeat's IPaddr/IPaddr2 argument forms and what they set (no root needed).
#[test]
fn ip_argument_forms_map_like_heartbeats() {
    let lib = script("hto-mapfuncs");
    let cases = [
        ("10.0.0.5", "ip=10.0.0.5 mask= nic= bcast="),
        ("10.0.0.5/24", "ip=10.0.0.5 mask=24 nic= bcast="),
        ("10.0.0.5/24/eth0", "ip=10.0.0.5 mask=24 nic=eth0 bcast="),
        (
            "10.0.0.5/24/eth0:web/10.0.0.255",
            "ip=10.0.0.5 mask=24 nic=eth0:web bcast=10.0.0.255",
        ),
        (
            "10.0.0.5/24/10.0.0.255",
            "ip=10.0.0.5 mask=24 nic= bcast=10.0.0.255",
        ),
    ];
    for (spec, want) in cases {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(
                ". \"$0\"; hbrs_ipspec \"$1\"; echo \"ip=$OCF_RESKEY_ip mask=${OCF_RESKEY_cidr_netmask-} \
                 nic=${OCF_RESKEY_nic-} bcast=${OCF_RESKEY_broadcast-}\"",
            )
            .arg(&lib)
            .arg(spec)
            .env("HA_RSCTMP", std::env::temp_dir())
            .output()
            .expect("run sh");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{spec}");
    }
}
