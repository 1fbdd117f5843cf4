//! Abusive API clients against our running daemon, in a namespace pair:
//! garbage, a 10 MB frame, and a client that floods requests and never
//! reads its replies are dropped with a log line while the peer sees no
//! late heartbeat; a uid that apiauth does not allow is refused.

mod common;

use common::cluster::{expect_log, ha_log};
use common::lab::{data_dir, require_real_heartbeat, Lab};
use std::time::Duration;

/// Runs inside host 1 (python3 from the machine): three bad clients at once.
const ABUSE: &str = r#"
import os, socket, struct, time
P = '/run/heartbeat/register'
def frame(text):
    body = text.encode() + b'\0'
    return struct.pack('=iI', len(body), 0xabcd) + body
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(P)
    return s
g = conn()
g.sendall(b'this is not a heartbeat frame' * 100)
big = conn()
big.sendall(struct.pack('=iI', 10 * 1024 * 1024, 0xabcd))
try:
    big.settimeout(2)
    big.sendall(b'x' * (10 * 1024 * 1024))
except Exception:
    pass
slow = conn()
me = str(os.getpid())
slow.sendall(frame('>>>\nt=hbapi-req\nreqtype=signon\ndest=alpha\npid=' + me + '\nfrom_id=' + me + '\nuid=0\ngid=0\n<<<'))
slow.settimeout(0.05)
end = time.time() + 14
req = frame('>>>\nt=hbapi-req\nreqtype=nodelist\ndest=alpha\npid=' + me + '\nfrom_id=' + me + '\n<<<')
while time.time() < end:
    try:
        slow.sendall(req * 50)
    except Exception:
        time.sleep(0.05)
print('done')
"#;

#[test]
fn abusive_api_clients_never_stall_the_daemon() {
    if !require_real_heartbeat() {
        return;
    }
    let lab = Lab::new("api-abuse", 2);
    let conf = data_dir().join("bcast");
    lab.run_ours(1, "alpha", &conf, &["-f"]);
    lab.run_ours(2, "bravo", &conf, &["-f"]);
    for host in [1, 2] {
        expect_log(
            &lab,
            host,
            "Comm_now_up(): updating status to active",
            Duration::from_secs(20),
        );
    }
    // Past the start-up window, so "late" means late.
    std::thread::sleep(Duration::from_secs(6));
    let out = lab.exec(1, &["python3", "-c", ABUSE]);
    assert!(out.status.success(), "abuse script: {out:?}");

    let alpha = ha_log(&lab, 1);
    let removed = alpha
        .lines()
        .filter(|l| l.contains("WARN: API client") && l.contains("removed"))
        .count();
    assert!(
        removed >= 3,
        "alpha did not drop the three clients:\n{alpha}"
    );
    let bravo = ha_log(&lab, 2);
    assert!(
        !bravo.contains("Late heartbeat"),
        "the peer saw a late heartbeat:\n{bravo}"
    );
    assert!(!bravo.contains("node alpha: is dead"), "{bravo}");

    // A user apiauth does not allow (nobody, no haclient group) is refused.
    let cl = env!("CARGO_BIN_EXE_cl_status");
    let out = lab.exec(
        1,
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            cl,
            "hbstatus",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("Heartbeat is running on this machine."),
        "nobody was let in: {out:?}"
    );
    // And root still gets its answer.
    assert_eq!(
        lab.exec_stdout(1, &[cl, "hbstatus"]),
        "Heartbeat is running on this machine."
    );
}
