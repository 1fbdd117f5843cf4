//! Golden tests of `heartbeat --check`, run on the real binary against the
//! fixture directories in tests/data/config (copied to a private temporary
//! directory first: git does not keep authkeys' mode 600).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A private copy of a configuration directory, removed on drop.
struct ConfDir {
    path: PathBuf,
}

impl ConfDir {
    fn empty(name: &str) -> ConfDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "hbrs-config-check-{}-{n}-{name}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temp dir");
        ConfDir { path }
    }

    /// Copy `source` (files only) and give authkeys `mode`.
    fn copy_of(source: &Path, name: &str, mode: u32) -> ConfDir {
        let dir = ConfDir::empty(name);
        for entry in fs::read_dir(source).expect("fixture dir") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                fs::copy(entry.path(), dir.path.join(entry.file_name())).expect("copy");
            }
        }
        let keys = dir.path.join("authkeys");
        if keys.exists() {
            fs::set_permissions(&keys, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        dir
    }

    fn fixture(name: &str) -> ConfDir {
        ConfDir::copy_of(&fixtures().join(name), name, 0o600)
    }
}

impl Drop for ConfDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/config")
}

/// Run `heartbeat --check --confdir DIR ARGS…`; stdout with DIR shown as
/// `$CONF`, and the exit code.
fn check(dir: &ConfDir, args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_heartbeat"))
        .arg("--check")
        .arg("--confdir")
        .arg(&dir.path)
        .args(args)
        .output()
        .expect("run heartbeat");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let shown = stdout.replace(&dir.path.display().to_string(), "$CONF");
    (shown, out.status.code().unwrap_or(-1))
}

fn check_fixture(name: &str) -> (String, i32) {
    check(&ConfDir::fixture(name), &["--node", "alpha"])
}

/// The `--check` advice for a two-node cluster without STONITH or ping node.
const SPLIT_BRAIN: &str = "warning: $CONF/ha.cf: two nodes with no STONITH (stonith/stonith_host) and no ping node (ping/ping_group): if the nodes lose sight of each other, both take over the resources (split brain) — add 'ping ROUTER' (a host both nodes reach) with 'respawn hacluster /usr/libexec/heartbeat/ipfail', and/or stonith_host lines so the survivor fences its peer first\n";

fn assert_output(name: &str, expected: &str, code: i32) {
    let (out, got) = check_fixture(name);
    assert_eq!(out, expected, "output of {name}");
    assert_eq!(got, code, "exit code of {name}");
}

#[test]
fn good_minimal() {
    assert_output(
        "good-minimal",
        &format!("{SPLIT_BRAIN}heartbeat --check: configuration OK for node alpha (0 errors, 1 warning)\n"),
        0,
    );
    // A ping node (or STONITH) is a split-brain defence: no advice.
    let dir = ConfDir::fixture("good-minimal");
    let hacf = fs::read_to_string(dir.path.join("ha.cf")).expect("ha.cf");
    fs::write(dir.path.join("ha.cf"), format!("{hacf}ping 192.0.2.254\n")).expect("ha.cf");
    let (out, code) = check(&dir, &["--node", "alpha"]);
    assert_eq!(
        (out.as_str(), code),
        (
            "heartbeat --check: configuration OK for node alpha (0 errors, 0 warnings)\n",
            0
        )
    );
}

#[test]
fn node_from_nodeinfo() {
    let dir = ConfDir::fixture("good-nodeinfo");
    let (out, code) = check(&dir, &[]);
    assert_eq!(
        out,
        format!("{SPLIT_BRAIN}heartbeat --check: configuration OK for node bravo (0 errors, 1 warning)\n")
    );
    assert_eq!(code, 0);
}

#[test]
fn nodeinfo_without_newline_falls_back_to_uname() {
    let dir = ConfDir::fixture("good-minimal");
    fs::write(dir.path.join("nodeinfo"), "bravo").expect("write nodeinfo");
    let (out, code) = check(&dir, &[]);
    let uname = heartbeat_rs::config::nodeinfo::uname_nodename();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(format!("warning: $CONF/nodeinfo:1: the first line does not end with a newline, so Heartbeat ignores nodeinfo and uses uname -n ({uname}) — end the line with a newline (echo NAME > nodeinfo)").as_str())
    );
    // alpha/bravo is not this machine (unless it is)
    let local = uname.to_ascii_lowercase();
    if local == "alpha" || local == "bravo" {
        assert_eq!(code, 0);
    } else {
        assert_eq!(
            lines.next(),
            Some(format!("error: $CONF/ha.cf: local node '{local}' (from nodeinfo or uname -n) is not in the configuration — add it to the node line, or write this node's name into $CONF/nodeinfo").as_str())
        );
        assert_eq!(code, 6);
    }
}

#[test]
fn warnings_only_still_start() {
    assert_output(
        "warn-only",
        &format!(
            "\
warning: $CONF/ha.cf:5: directive 'udp' is an obsolete alias of 'bcast' — write 'bcast' instead of 'udp'
warning: $CONF/ha.cf:6: udpport after media lines has no effect on bcast (port 694 since line 5) — move the udpport line before the first bcast/ucast line
warning: $CONF/ha.cf:7: mcast: text after the loop flag is ignored: extra — remove the extra words
warning: $CONF/ha.cf:9: nice_failback is obsolete; Heartbeat reads 'nice_failback on' as 'auto_failback legacy' — replace it with 'auto_failback on' (or off)
warning: $CONF/ha.cf:4: initdead (6000 ms) may be too small: it covers slow network start-up — set initdead to 10 seconds or more (and at least deadtime)
warning: $CONF/ha.cf:9: nice_failback leaves auto_failback at its deprecated 'legacy' default — add 'auto_failback on' (or off), the same on every node
warning: $CONF/authkeys:2: key 1 is only 5 characters long — use a random key of at least 16 characters
{SPLIT_BRAIN}heartbeat --check: configuration OK for node alpha (0 errors, 8 warnings)
"
        ),
        0,
    );
}

const TIME_FIX: &str = "write seconds as a plain number (2, 0.5) or add ms or us (500ms); Heartbeat rejects other units such as s or m";

#[test]
fn time_units() {
    assert_output(
        "bad-time-unit",
        &format!(
            "\
error: $CONF/ha.cf:2: keepalive 10s: unit 's' is not a time unit Heartbeat knows — {TIME_FIX}
error: $CONF/ha.cf:3: deadtime 1m: unit 'm' is not a time unit Heartbeat knows — {TIME_FIX}
error: $CONF/ha.cf:4: warntime 5sec: unit 'sec' is not a time unit Heartbeat knows — {TIME_FIX}
heartbeat --check: configuration error, heartbeat would not start (3 errors, 0 warnings)
"
        ),
        6,
    );
}

#[test]
fn unknown_directives() {
    assert_output(
        "bad-unknown-directive",
        "\
error: $CONF/ha.cf:2: illegal directive [Keepalive] — check the spelling (directives are case-sensitive) or remove the line
error: $CONF/ha.cf:3: illegal directive [nodes] — check the spelling (directives are case-sensitive) or remove the line
heartbeat --check: configuration error, heartbeat would not start (2 errors, 0 warnings)
",
        6,
    );
}

#[test]
fn deadtime_too_small() {
    assert_output(
        "bad-deadtime",
        "\
error: $CONF/ha.cf:3: deadtime (4000 ms) must be more than twice keepalive (2000 ms) — raise deadtime or lower keepalive (e.g. keepalive 1, deadtime 10)
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn initdead_below_deadtime() {
    assert_output(
        "bad-initdead",
        "\
error: $CONF/ha.cf:3: initdead (10000 ms) is smaller than deadtime (20000 ms) — set initdead to at least deadtime (and at least 10 seconds)
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn no_media() {
    assert_output(
        "bad-no-media",
        "\
error: $CONF/ha.cf: no heartbeat media defined — add at least one bcast, mcast, ucast or serial line
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn bad_media_lines() {
    assert_output(
        "bad-mcast",
        "\
error: $CONF/ha.cf:2: mcast [eth0] bad addr [10.0.0.1]: not an IPv4 multicast address — use a group in 224.0.0.0/4, e.g. 239.0.0.1
error: $CONF/ha.cf:2: mcast [eth0] bad ttl [5] — use a TTL from 0 to 4
error: $CONF/ha.cf:2: mcast [eth0] bad loop [2] — use loop 0 or 1
error: $CONF/ha.cf:3: ucast [eth0]: missing target IP address/hostname — write ucast DEV PEER, one line per peer, e.g. ucast eth0 192.0.2.2
error: $CONF/ha.cf: no heartbeat media defined — add at least one bcast, mcast, ucast or serial line
heartbeat --check: configuration error, heartbeat would not start (5 errors, 0 warnings)
",
        6,
    );
}

#[test]
fn local_node_not_listed() {
    assert_output(
        "bad-not-local",
        "\
error: $CONF/ha.cf: local node 'alpha' (given with --node) is not in the configuration — add it to the node line, or write this node's name into $CONF/nodeinfo
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn pacemaker_refused() {
    assert_output(
        "bad-crm",
        "\
error: $CONF/ha.cf:7: 'crm respawn' selects Pacemaker (CRM) cluster management, which heartbeat-rs does not provide — use 'crm off' with haresources, or run Pacemaker with Heartbeat 3.0.6 or Corosync
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn autojoin_refused() {
    assert_output(
        "bad-autojoin",
        "\
error: $CONF/ha.cf:8: R1-style (haresources) resource management conflicts with autojoin other/any — remove the autojoin line (or set autojoin none)
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn respawn_checks() {
    assert_output(
        "bad-respawn",
        "\
error: $CONF/ha.cf:9: respawn command [relative/prog] is not a full pathname — write respawn USER /absolute/path/to/program [ARGS…]
error: $CONF/ha.cf:8: invalid uid [nosuchuser-hbrs] specified for client child — use an existing user name (e.g. hacluster or root)
error: $CONF/ha.cf:10: client child command [/nonexistent/hbrs-program] is not executable — install the program or fix the path (it must be an executable file)
heartbeat --check: configuration error, heartbeat would not start (3 errors, 0 warnings)
",
        6,
    );
}

#[test]
fn authkeys_order() {
    assert_output(
        "bad-authkeys-order",
        "\
error: $CONF/authkeys:3: auth key [1] not found — the 'auth N' line must come BEFORE the 'N METHOD KEY' line it selects, and that line must be valid
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
",
        6,
    );
}

#[test]
fn authkeys_methods_and_indexes() {
    assert_output(
        "bad-authkeys-crc-key",
        "\
error: $CONF/authkeys:2: auth method [crc] doesn't use a key — write the crc line without a key (better: use sha1 with a key)
error: $CONF/authkeys:3: invalid authtype [SHA1] — use crc, md5 or sha1 (lower case)
error: $CONF/authkeys:4: invalid authnum [16] — use a key index from 0 to 15
error: $CONF/authkeys:5: auth method [md5] requires a key — add the key after the method, e.g. '1 sha1 SECRET'
error: $CONF/authkeys:1: auth key [1] not found — the 'auth N' line must come BEFORE the 'N METHOD KEY' line it selects, and that line must be valid
heartbeat --check: configuration error, heartbeat would not start (5 errors, 0 warnings)
",
        6,
    );
}

#[test]
fn authkeys_permissions() {
    for (mode, ok) in [
        (0o600, true),
        (0o400, true),
        (0o620, true),
        (0o640, false),
        (0o604, false),
        (0o644, false),
    ] {
        let dir = ConfDir::copy_of(&fixtures().join("bad-authkeys-perm"), "perm", mode);
        let (out, code) = check(&dir, &["--node", "alpha"]);
        if ok {
            assert_eq!(code, 0, "mode {mode:o}: {out}");
        } else {
            assert_eq!(
                out,
                format!(
                    "\
error: $CONF/authkeys: bad permissions {mode:04o} on keyfile: group or others can read the keys — run: chmod 600 $CONF/authkeys
heartbeat --check: configuration error, heartbeat would not start (1 error, 0 warnings)
"
                )
            );
            assert_eq!(code, 6);
        }
    }
}

#[test]
fn haresources_errors() {
    assert_output(
        "bad-haresources",
        "\
error: $CONF/haresources:2: bad nodename [charlie]: not a node in ha.cf — start the line with one of the configured nodes (alpha, bravo)
error: $CONF/haresources:5: node alpha has no resources on this line — list the resources after the node name, or remove the line
error: $CONF/haresources:6: a '#' on a continued line is not a comment for Heartbeat's ResourceManager (it joins lines before stripping comments only from the first) — put the comment on its own line, before the group
error: $CONF/haresources:4: group key 'httpd' is already used on line 3 — the first resource of each line must be unique; put a different resource first
heartbeat --check: configuration error, heartbeat would not start (4 errors, 0 warnings)
",
        6,
    );
}

#[test]
fn every_file_reported_at_once() {
    assert_output(
        "bad-everything",
        &format!(
            "\
error: $CONF/ha.cf:2: keepalive 10s: unit 's' is not a time unit Heartbeat knows — {TIME_FIX}
warning: $CONF/ha.cf: auto_failback is not set: Heartbeat's default is the deprecated 'legacy' mode (ip-request protocol, no hb_standby) — add 'auto_failback on' (or off), the same on every node
error: $CONF/authkeys:2: auth key [1] not found — the 'auth N' line must come BEFORE the 'N METHOD KEY' line it selects, and that line must be valid
error: $CONF/haresources:1: bad nodename [zulu]: not a node in ha.cf — start the line with one of the configured nodes (alpha, bravo)
heartbeat --check: configuration error, heartbeat would not start (3 errors, 1 warning)
"
        ),
        6,
    );
}

#[test]
fn missing_files() {
    let dir = ConfDir::empty("missing");
    let (out, code) = check(&dir, &["--node", "alpha"]);
    assert_eq!(
        out,
        "\
error: $CONF/ha.cf: file not found — create it: copy the commented sample etc/ha.d/ha.cf and edit the node and bcast lines
error: $CONF/authkeys: file not found — create it (mode 600) with 'auth 1' and '1 sha1 SECRET' lines
error: $CONF/haresources: file not found — create it (it may contain only comments): copy the sample etc/ha.d/haresources
heartbeat --check: configuration error, heartbeat would not start (3 errors, 0 warnings)
"
    );
    assert_eq!(code, 6);
}

#[test]
fn real_lab_and_capture_configs_are_accepted() {
    for name in [
        "lab-bcast",
        "lab-bench",
        "lab-mcast",
        "lab-serial",
        "lab-ucast",
        "wire-bcast",
        "wire-crc",
        "wire-md5",
        "wire-mcast",
        "wire-serial",
        "wire-ucast",
    ] {
        for node in ["alpha", "bravo"] {
            let dir = ConfDir::fixture(name);
            let (out, code) = check(&dir, &["--node", node]);
            assert_eq!(code, 0, "{name} as {node}: {out}");
            assert!(!out.contains("error:"), "{name}: {out}");
            assert!(
                out.ends_with(&format!(
                    "configuration OK for node {node} (0 errors, 3 warnings)\n"
                )),
                "{name}: {out}"
            );
        }
    }
}

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/ha.d")
}

#[test]
fn shipped_samples_pass_after_chmod() {
    let dir = ConfDir::copy_of(&sample_dir(), "sample", 0o600);
    let (out, code) = check(&dir, &["--node", "alpha"]);
    assert_eq!(
        out,
        format!(
            "\
warning: $CONF/authkeys:23: this is the sample key from the documentation — generate a secret, e.g. with: dd if=/dev/urandom bs=32 count=1 2>/dev/null | sha1sum
warning: $CONF/haresources: no resource groups defined: heartbeat will only track membership — add a line such as 'alpha 192.0.2.10 apache' (see the examples in the file)
{SPLIT_BRAIN}heartbeat --check: configuration OK for node alpha (0 errors, 3 warnings)
"
        )
    );
    assert_eq!(code, 0);
    // a fresh clone has authkeys 0644: refused until chmod 600
    let dir = ConfDir::copy_of(&sample_dir(), "sample644", 0o644);
    let (out, code) = check(&dir, &["--node", "bravo"]);
    assert!(
        out.starts_with("error: $CONF/authkeys: bad permissions 0644"),
        "{out}"
    );
    assert_eq!(code, 6);
}

#[test]
fn sample_ha_cf_documents_every_directive() {
    let text = fs::read_to_string(sample_dir().join("ha.cf")).expect("sample ha.cf");
    let words: std::collections::HashSet<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    for name in heartbeat_rs::config::hacf::directive_names() {
        assert!(words.contains(name), "sample ha.cf does not mention {name}");
    }
    assert!(words.contains("udp"));
}

#[test]
fn usage_errors() {
    for args in [&["--check", "--bogus"][..], &["--check", "--confdir"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_heartbeat"))
            .args(args)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("heartbeat: "), "{err}");
        assert!(!err.contains("heartbeat: heartbeat:"), "{err}");
        assert!(
            err.contains("--check         validate the configuration"),
            "{err}"
        );
    }
}
