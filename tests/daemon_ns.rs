//! Two of our daemons in network namespaces, over each medium: both reach
//! `active`, and when one is killed with SIGKILL the other declares it dead
//! within deadtime + 100 ms of its last heartbeat.

mod common;

use common::cluster::{expect_log, for_each_medium, lab_for, wait_log_count};
use common::lab::{data_dir, require_lab};
use std::time::{Duration, Instant};

/// deadtime of the lab configs.
const DEADTIME: Duration = Duration::from_secs(3);
/// keepalive of the lab configs.
const KEEPALIVE: Duration = Duration::from_millis(500);

fn ours_pair_then_kill(medium: &str) {
    let lab = lab_for("dns", medium);
    let conf = data_dir().join(medium);
    let started = Instant::now();
    let alpha = lab.run_ours(1, "alpha", &conf, &["-f"]);
    lab.run_ours(2, "bravo", &conf, &["-f"]);
    for host in [1, 2] {
        expect_log(
            &lab,
            host,
            "Comm_now_up(): updating status to active",
            Duration::from_secs(20),
        );
    }
    expect_log(
        &lab,
        1,
        "Status update for node bravo: status active",
        Duration::from_secs(5),
    );
    expect_log(
        &lab,
        2,
        "Status update for node alpha: status active",
        Duration::from_secs(5),
    );
    // Past the 5 s start-up window where the advertised deadtime is +2 s.
    let settle = Duration::from_secs(6).saturating_sub(started.elapsed());
    std::thread::sleep(settle);

    lab.kill_pid(alpha, libc::SIGKILL);
    let killed = Instant::now();
    let dead =
        wait_log_count(&lab, 2, "node alpha: is dead", 0, DEADTIME * 3).unwrap_or_else(|| {
            panic!(
                "{medium}: bravo never declared alpha dead:\n{}",
                lab.log_of(2)
            )
        });
    // alpha's last heartbeat left at most one keepalive before the kill.
    let after_kill = dead - killed;
    assert!(
        after_kill <= DEADTIME + Duration::from_millis(100),
        "{medium}: death seen {after_kill:?} after the kill (deadtime {DEADTIME:?})"
    );
    assert!(
        after_kill + KEEPALIVE >= DEADTIME,
        "{medium}: death seen too early, {after_kill:?} after the kill"
    );
}

#[test]
fn two_of_ours_reach_active_and_detect_death_on_every_medium() {
    if !require_lab() {
        return;
    }
    for_each_medium(ours_pair_then_kill);
}

/// A custom message type written into one node's FIFO (as `ha_clustermsg`
/// does) reaches the other node and runs its `/etc/ha.d/rc.d/<type>` with
/// the message fields in `HA_*` variables, as Heartbeat's `harc` did.
#[test]
fn custom_message_types_run_their_rc_d_script() {
    if !require_lab() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let lab = common::lab::Lab::new("dns-rcd", 2);
    let conf = data_dir().join("bcast");
    let script = lab.file(2, "/etc/ha.d/rc.d/labnote");
    std::fs::create_dir_all(script.parent().expect("rc.d")).expect("mkdir rc.d");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$1 from=$HA_src note=$HA_note\" >> /var/log/labnote.out\n",
    )
    .expect("write script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
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
    let out = lab.exec(
        1,
        &[
            "sh",
            "-c",
            "printf '>>>\\nt=labnote\\nnote=hello world\\n<<<\\n' > /var/lib/heartbeat/fifo",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let result = lab.file(2, "/var/log/labnote.out");
    assert!(
        common::lab::wait_for(|| result.exists(), Duration::from_secs(10)),
        "rc.d/labnote did not run on bravo:\n{}",
        lab.log_of(2)
    );
    assert_eq!(
        std::fs::read_to_string(&result).expect("read"),
        "labnote from=alpha note=hello world\n"
    );
}
