//! Packaging: `make install DESTDIR=` lays out Debian's heartbeat paths and
//! never overwrites an admin's file; the .deb installs over Debian's
//! `heartbeat` in a lab host whose /usr, /etc and /var are overlays, and
//! `/etc/init.d/heartbeat` starts, reports and stops our daemon; under a
//! fake `$NOTIFY_SOCKET` the daemon speaks systemd's notify protocol.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::cluster::expect_log;
use common::lab::{data_dir, repo_dir, require_lab, require_real_heartbeat, wait_for, Lab};

/// Where cargo put the binaries under test (target/{debug,release}).
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_heartbeat"))
        .parent()
        .expect("binary dir")
        .to_path_buf()
}

fn under_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hbrs-pkg-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn make_install(destdir: &Path) -> String {
    let out = Command::new("make")
        .current_dir(repo_dir())
        .arg("install")
        .arg(format!("DESTDIR={}", destdir.display()))
        .arg("NO_BUILD=1")
        .arg(format!("BUILD_DIR={}", bin_dir().display()))
        .output()
        .expect("run make");
    ok("make install", out)
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Files of `dir` in the repository matching `keep` (man pages, agents, samples).
fn repo_files(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = fs::read_dir(repo_dir().join(dir))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
        .filter(|(n, _)| keep(n))
        .collect();
    found.sort();
    found
}

fn gunzip(path: &Path) -> Vec<u8> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .expect("gzip");
    assert!(out.status.success(), "{}: not gzip", path.display());
    out.stdout
}

#[test]
fn make_install_lays_out_debian_paths_and_keeps_admin_files() {
    if !have("make") {
        assert!(!under_ci(), "make missing (tests/harness/install-deps.sh)");
        eprintln!("SKIPPED: make missing");
        return;
    }
    let dest = scratch("tree");
    let log = make_install(&dest);
    let p = |rel: &str| dest.join(rel.trim_start_matches('/'));

    for (path, want) in [
        ("/usr/libexec/heartbeat/heartbeat", 0o755),
        ("/usr/libexec/heartbeat/hb_standby", 0o755),
        ("/usr/libexec/heartbeat/hb_takeover", 0o755),
        ("/usr/bin/cl_status", 0o755),
        ("/etc/init.d/heartbeat", 0o755),
        ("/lib/systemd/system/heartbeat.service", 0o644),
        ("/usr/lib/tmpfiles.d/heartbeat.conf", 0o644),
        ("/etc/ha.d/ha.cf", 0o644),
        ("/etc/ha.d/haresources", 0o644),
        ("/etc/ha.d/authkeys", 0o600),
        ("/usr/share/doc/heartbeat-rs/examples/ha.cf", 0o644),
        ("/usr/share/doc/heartbeat-rs/examples/authkeys", 0o644),
        ("/usr/share/doc/heartbeat-rs/examples/haresources", 0o644),
    ] {
        assert_eq!(mode(&p(path)), want, "{path}: mode");
    }
    for dir in [
        "/etc/ha.d/resource.d",
        "/etc/ha.d/rc.d",
        "/var/lib/heartbeat",
        "/usr/share/heartbeat",
    ] {
        assert!(p(dir).is_dir(), "{dir} missing");
    }
    // Heartbeat's scripts run $HA_NOARCHBIN/hb_standby; admins `heartbeat`.
    for (link, target) in [
        (
            "/usr/share/heartbeat/hb_standby",
            "/usr/libexec/heartbeat/hb_standby",
        ),
        (
            "/usr/share/heartbeat/hb_takeover",
            "/usr/libexec/heartbeat/hb_takeover",
        ),
        ("/usr/bin/hb_standby", "/usr/libexec/heartbeat/hb_standby"),
        ("/usr/sbin/heartbeat", "/usr/libexec/heartbeat/heartbeat"),
    ] {
        assert_eq!(
            fs::read_link(p(link)).ok(),
            Some(PathBuf::from(target)),
            "{link}"
        );
        assert!(p(target).is_file(), "{link} points at a missing {target}");
    }
    // The installed daemon is the one just built (it knows --check).
    let help = Command::new(p("/usr/libexec/heartbeat/heartbeat"))
        .arg("--help")
        .output()
        .expect("run installed heartbeat");
    assert!(String::from_utf8_lossy(&help.stdout).contains("--check"));

    // Init script and unit name installed, executable paths.
    let unit = fs::read_to_string(p("/lib/systemd/system/heartbeat.service")).expect("unit");
    for line in [
        "Type=notify",
        "NotifyAccess=main",
        "ExecStart=/usr/libexec/heartbeat/heartbeat -f",
        "ExecStartPre=/usr/libexec/heartbeat/heartbeat --check",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.lines().any(|l| l == line), "unit lacks {line:?}");
    }
    assert!(!unit.contains('@'), "unsubstituted placeholder in the unit");
    let init = fs::read_to_string(p("/etc/init.d/heartbeat")).expect("init script");
    assert!(init.contains("DAEMON=/usr/libexec/heartbeat/heartbeat"));
    assert!(
        init.contains("### BEGIN INIT INFO") && init.contains("# Provides:          heartbeat")
    );
    assert!(
        !init.contains("@HB_"),
        "unsubstituted placeholder in the init script"
    );
    ok(
        "sh -n init script",
        Command::new("sh")
            .arg("-n")
            .arg(p("/etc/init.d/heartbeat"))
            .output()
            .expect("sh"),
    );
    let tmpfiles = fs::read_to_string(p("/usr/lib/tmpfiles.d/heartbeat.conf")).expect("tmpfiles");
    assert!(tmpfiles
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["d", "/run/heartbeat", "0750", "hacluster", "haclient", "-"]));

    // Whatever man/, resource.d/ and etc/ha.d/ hold is installed.
    for (name, src) in repo_files("man", |n| {
        n.rsplit_once('.').is_some_and(|(_, s)| {
            s.len() == 1 && ('1'..='8').contains(&s.chars().next().unwrap_or('x'))
        })
    }) {
        let section = name.rsplit_once('.').map(|(_, s)| s).unwrap_or_default();
        let gz = p(&format!("/usr/share/man/man{section}/{name}.gz"));
        assert_eq!(gunzip(&gz), fs::read(&src).expect("man source"), "{name}");
    }
    for (name, _) in repo_files("resource.d", |n| !n.ends_with(".md")) {
        let sourced = name == "hto-mapfuncs";
        assert_eq!(
            mode(&p(&format!("/etc/ha.d/resource.d/{name}"))),
            if sourced { 0o644 } else { 0o755 },
            "{name}"
        );
    }
    assert_eq!(
        mode(&p(
            "/usr/share/doc/heartbeat-rs/examples/resource.d/drbddisk"
        )),
        0o755
    );
    for (name, src) in repo_files("etc/ha.d", |_| true) {
        let example = p(&format!("/usr/share/doc/heartbeat-rs/examples/{name}"));
        assert_eq!(fs::read(&example).ok(), fs::read(&src).ok(), "{name}");
    }
    let kept = |log: &str| log.lines().any(|l| l.starts_with("keeping "));
    assert!(!kept(&log), "a fresh tree kept something:\n{log}");

    // A second install keeps the admin's configuration, content and mode.
    let hacf = p("/etc/ha.d/ha.cf");
    let authkeys = p("/etc/ha.d/authkeys");
    fs::write(&hacf, "# the admin's ha.cf\n").expect("write ha.cf");
    fs::write(&authkeys, "auth 2\n2 sha1 admins-own-key\n").expect("write authkeys");
    fs::set_permissions(&authkeys, fs::Permissions::from_mode(0o400)).expect("chmod");
    let log = make_install(&dest);
    assert_eq!(
        fs::read_to_string(&hacf).expect("ha.cf"),
        "# the admin's ha.cf\n"
    );
    assert_eq!(
        fs::read_to_string(&authkeys).expect("authkeys"),
        "auth 2\n2 sha1 admins-own-key\n"
    );
    assert_eq!(mode(&authkeys), 0o400);
    assert!(kept(&log), "{log}");
    fs::remove_dir_all(&dest).expect("clean up");
}

/// sha256 of a file (to prove the machine's own files did not change).
fn digest(path: &str) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// `overlay-root.sh run CMD` inside host 1: refuses unless /usr, /etc and
/// /var are overlays there.
fn in_root(lab: &Lab, argv: &[&str]) -> Output {
    let script = repo_dir().join("tests/harness/overlay-root.sh");
    let script = script.to_string_lossy();
    let mut args = vec!["bash", script.as_ref(), "run"];
    args.extend(argv);
    lab.exec(1, &args)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn deb_replaces_heartbeat_and_init_script_runs_our_daemon() {
    if !require_real_heartbeat() {
        return;
    }
    let real_daemon = digest("/usr/libexec/heartbeat/heartbeat");
    let real_init = digest("/etc/init.d/heartbeat");

    let out_dir = scratch("deb");
    let built = Command::new(repo_dir().join("packaging/deb/build.sh"))
        .env("NO_BUILD", "1")
        .env("BUILD_DIR", bin_dir())
        .env("OUT_DIR", &out_dir)
        .env("DEB_COMPRESS", "none")
        .output()
        .expect("build.sh");
    let deb = ok("packaging/deb/build.sh", built).trim().to_string();
    assert!(deb.ends_with(".deb") && Path::new(&deb).is_file(), "{deb}");
    let fields = ok(
        "dpkg-deb -f",
        Command::new("dpkg-deb")
            .args(["-f", &deb, "Package", "Provides", "Conflicts", "Replaces"])
            .output()
            .expect("dpkg-deb"),
    );
    for f in [
        "Package: heartbeat-rs",
        "Provides: heartbeat",
        "Conflicts: heartbeat",
        "Replaces: heartbeat",
    ] {
        assert!(
            fields.lines().any(|l| l == f),
            "control lacks {f}:\n{fields}"
        );
    }

    let lab = Lab::new("pkg-deb", 1);
    let hd = lab.host_dir(1);
    let script = repo_dir().join("tests/harness/overlay-root.sh");
    let up = lab.exec(
        1,
        &[
            "bash",
            &script.to_string_lossy(),
            "up",
            &hd.join("ovl").to_string_lossy(),
            &hd.to_string_lossy(),
        ],
    );
    ok("overlay-root.sh up", up);

    // Debian's heartbeat makes way; an unconfigured node is not started.
    let install = in_root(&lab, &["dpkg", "-i", &deb]);
    let log = text(&install);
    assert!(install.status.success(), "dpkg -i:\n{log}");
    assert!(
        log.contains("will remove heartbeat in favour of heartbeat-rs"),
        "{log}"
    );
    assert!(log.contains("not started"), "{log}");
    let status = in_root(&lab, &["/etc/init.d/heartbeat", "status"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    let stat = in_root(
        &lab,
        &[
            "stat",
            "-c",
            "%a %U:%G",
            "/usr/bin/cl_status",
            "/etc/ha.d/authkeys",
            "/run/heartbeat",
        ],
    );
    assert_eq!(
        ok("stat", stat).lines().collect::<Vec<_>>(),
        [
            "2555 root:haclient",
            "600 root:root",
            "750 hacluster:haclient"
        ]
    );
    let authkeys = fs::read_to_string(lab.file(1, "/etc/ha.d/authkeys")).expect("authkeys");
    assert!(
        !authkeys.contains("CHANGE-ME"),
        "the sample's placeholder key was kept"
    );
    let help = in_root(&lab, &["/usr/libexec/heartbeat/heartbeat", "--help"]);
    assert!(
        text(&help).contains("--check"),
        "the real daemon is still installed"
    );

    // A broken configuration: `start` says why and exits 6 (LSB: not configured).
    ok("hostname", lab.exec(1, &["hostname", "alpha"]));
    let conf = data_dir().join("pkg");
    for f in ["ha.cf", "haresources", "authkeys"] {
        fs::copy(conf.join(f), lab.file(1, &format!("/etc/ha.d/{f}"))).expect("copy config");
    }
    fs::set_permissions(
        lab.file(1, "/etc/ha.d/authkeys"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod authkeys");
    fs::write(
        lab.file(1, "/etc/ha.d/ha.cf"),
        fs::read_to_string(conf.join("ha.cf")).expect("ha.cf") + "keepalive 10s\n",
    )
    .expect("write ha.cf");
    let bad = in_root(&lab, &["/etc/init.d/heartbeat", "start"]);
    assert_eq!(bad.status.code(), Some(6), "{}", text(&bad));
    assert!(
        text(&bad).contains("ha.cf:"),
        "no diagnostic:\n{}",
        text(&bad)
    );

    fs::copy(conf.join("ha.cf"), lab.file(1, "/etc/ha.d/ha.cf")).expect("copy ha.cf");
    let start = in_root(&lab, &["/etc/init.d/heartbeat", "start"]);
    assert!(
        start.status.success(),
        "start: {}\n{}",
        text(&start),
        lab.log_of(1)
    );
    let status = in_root(&lab, &["/etc/init.d/heartbeat", "status"]);
    assert!(
        status.status.success() && text(&status).contains("is running"),
        "status: {}",
        text(&status)
    );
    expect_log(
        &lab,
        1,
        "Comm_now_up(): updating status to active",
        Duration::from_secs(15),
    );
    assert!(
        wait_for(
            || lab.exec_stdout(1, &["cl_status", "nodestatus", "alpha"]) == "active",
            Duration::from_secs(10)
        ),
        "cl_status never saw alpha active: {:?}",
        text(&lab.exec(1, &["cl_status", "nodestatus", "alpha"]))
    );
    // reload = SIGHUP after a config check; restart = stop, deadtime +
    // RESTART_GRACE (from /etc/default/heartbeat), start.
    let reload = in_root(&lab, &["/etc/init.d/heartbeat", "reload"]);
    assert!(reload.status.success(), "reload: {}", text(&reload));
    expect_log(&lab, 1, "Configuration unchanged.", Duration::from_secs(5));
    let defaults = "echo RESTART_GRACE=0 > /etc/default/heartbeat";
    ok(
        "/etc/default/heartbeat",
        in_root(&lab, &["sh", "-c", defaults]),
    );
    let pid_of = |out: &Output| {
        let t = text(out);
        t.split("[pid ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no pid in status: {t}"))
    };
    let first = pid_of(&status);
    let restart = in_root(&lab, &["/etc/init.d/heartbeat", "restart"]);
    assert!(restart.status.success(), "restart: {}", text(&restart));
    let status = in_root(&lab, &["/etc/init.d/heartbeat", "status"]);
    assert!(
        status.status.success(),
        "status after restart: {}",
        text(&status)
    );
    assert_ne!(pid_of(&status), first, "restart kept the old daemon");

    let stop = in_root(&lab, &["/etc/init.d/heartbeat", "stop"]);
    assert!(stop.status.success(), "stop: {}", text(&stop));
    let status = in_root(&lab, &["/etc/init.d/heartbeat", "status"]);
    assert_eq!(status.status.code(), Some(3), "{}", text(&status));
    assert!(lab.log_of(1).contains("Heartbeat shutdown complete."));
    let reload = in_root(&lab, &["/etc/init.d/heartbeat", "reload"]);
    assert_eq!(reload.status.code(), Some(7), "reload while stopped");
    let usage = in_root(&lab, &["/etc/init.d/heartbeat", "bogus"]);
    assert_eq!(usage.status.code(), Some(2), "unknown action");

    let purge = in_root(&lab, &["dpkg", "--purge", "heartbeat-rs"]);
    assert!(purge.status.success(), "purge: {}", text(&purge));
    let gone = in_root(&lab, &["test", "-e", "/usr/libexec/heartbeat/heartbeat"]);
    assert_eq!(gone.status.code(), Some(1), "daemon left after purge");
    assert!(
        lab.file(1, "/etc/ha.d/ha.cf").is_file(),
        "purge removed the admin's ha.cf"
    );

    drop(lab);
    assert_eq!(digest("/usr/libexec/heartbeat/heartbeat"), real_daemon);
    assert_eq!(digest("/etc/init.d/heartbeat"), real_init);
    let real = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package} ${Status}\n", "heartbeat"])
        .output()
        .expect("dpkg-query");
    assert!(String::from_utf8_lossy(&real.stdout).contains("install ok installed"));
    fs::remove_dir_all(&out_dir).expect("clean up");
}

/// Waits for the next datagram on `rx` (None after `timeout`).
fn next_msg(rx: &UnixDatagram, timeout: Duration) -> Option<String> {
    rx.set_read_timeout(Some(timeout)).expect("timeout");
    let mut buf = [0u8; 512];
    rx.recv(&mut buf)
        .ok()
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Reads datagrams until one starts with `prefix`; returns those before it.
fn wait_msg(rx: &UnixDatagram, prefix: &str, timeout: Duration) -> Vec<String> {
    let end = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match next_msg(rx, left.max(Duration::from_millis(1))) {
            Some(m) if m.starts_with(prefix) => return seen,
            Some(m) => seen.push(m),
            None => panic!("no {prefix} within {timeout:?}; got {seen:?}"),
        }
    }
}

#[test]
fn daemon_notifies_systemd_ready_watchdog_reload_and_stop() {
    if !require_lab() {
        return;
    }
    let lab = Lab::new("pkg-notify", 1);
    // A path socket: the lab dir is visible from the host's mount namespace
    // (an abstract one would be private to its network namespace).
    let sock = lab.host_dir(1).join("notify.sock");
    let rx = UnixDatagram::bind(&sock).expect("bind notify socket");
    let env_socket = format!("NOTIFY_SOCKET={}", sock.display());
    let pid = lab.run(
        1,
        Some("alpha"),
        Some(&data_dir().join("pkg")),
        &[
            "env",
            &env_socket,
            "WATCHDOG_USEC=400000",
            env!("CARGO_BIN_EXE_heartbeat"),
            "-f",
        ],
    );

    let before = wait_msg(&rx, "READY=1", Duration::from_secs(15));
    assert!(
        before.iter().all(|m| m == "WATCHDOG=1"),
        "before READY: {before:?}"
    );
    assert!(
        lab.log_of(1)
            .contains("Comm_now_up(): updating status to active"),
        "READY=1 before comm-up:\n{}",
        lab.log_of(1)
    );
    // Every 200 ms (half of WATCHDOG_USEC) while the loop turns.
    let t0 = Instant::now();
    for _ in 0..4 {
        assert_eq!(
            next_msg(&rx, Duration::from_secs(2)).as_deref(),
            Some("WATCHDOG=1")
        );
    }
    assert!(
        t0.elapsed() >= Duration::from_millis(500),
        "pinged too often"
    );

    // A hung daemon stops pinging.
    lab.kill_pid(pid, libc::SIGSTOP);
    while next_msg(&rx, Duration::from_millis(50)).is_some() {}
    assert_eq!(
        next_msg(&rx, Duration::from_secs(1)),
        None,
        "pinged while stopped"
    );
    lab.kill_pid(pid, libc::SIGCONT);
    assert_eq!(
        next_msg(&rx, Duration::from_secs(2)).as_deref(),
        Some("WATCHDOG=1")
    );

    lab.kill_pid(pid, libc::SIGHUP);
    let before = wait_msg(&rx, "RELOADING=1\nMONOTONIC_USEC=", Duration::from_secs(5));
    assert!(before.iter().all(|m| m == "WATCHDOG=1"), "{before:?}");
    wait_msg(&rx, "READY=1", Duration::from_secs(5));

    lab.kill_pid(pid, libc::SIGTERM);
    wait_msg(&rx, "STOPPING=1", Duration::from_secs(5));
    assert!(
        wait_for(|| !common::lab::pid_alive(pid), Duration::from_secs(15)),
        "daemon did not exit after SIGTERM"
    );
}
