use super::*;

fn spec(cmd: &str, failfast: bool) -> ClientSpec {
    ClientSpec {
        command: cmd.to_string(),
        uid: 103,
        gid: 106,
        failfast,
    }
}

fn logs(acts: &[Act]) -> Vec<String> {
    acts.iter()
        .filter_map(|a| match a {
            Act::Log(_, t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn starts(acts: &[Act]) -> Vec<(usize, u64)> {
    acts.iter()
        .filter_map(|a| match a {
            Act::Start { idx, delay_ms } => Some((*idx, *delay_ms)),
            _ => None,
        })
        .collect()
}

fn started(p: &mut Policy, idx: usize, pid: i32, now_ms: u64) {
    assert!(p.handle(Event::Started { idx, pid, now_ms }).is_empty());
}

#[test]
fn comm_up_starts_every_client_in_order() {
    let mut p = Policy::new(vec![spec("/bin/a", false), spec("/bin/b x", false)]);
    let acts = p.handle(Event::CommUp);
    assert_eq!(starts(&acts), vec![(0, 0), (1, 0)]);
    assert_eq!(
        logs(&acts),
        vec![
            "Starting child client \"/bin/a\" (103,106)",
            "Starting child client \"/bin/b x\" (103,106)"
        ]
    );
    // A second comm-up (or a start while one is pending) starts nothing.
    assert!(starts(&p.handle(Event::CommUp)).is_empty());
}

#[test]
fn an_exit_is_restarted_at_once_after_a_long_run() {
    let mut p = Policy::new(vec![spec("/bin/a", false)]);
    p.handle(Event::CommUp);
    started(&mut p, 0, 10, 0);
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Code(0),
        now_ms: 40_000,
    });
    assert_eq!(starts(&acts), vec![(0, 0)]);
    assert_eq!(
        logs(&acts),
        vec![
            "Managed /bin/a process 10 exited with return code 0.",
            "Respawning client \"/bin/a\":",
            "Starting child client \"/bin/a\" (103,106)",
        ]
    );
    assert_eq!(p.pid(0), None);
}

#[test]
fn exit_code_100_is_not_restarted() {
    let mut p = Policy::new(vec![spec("/bin/a", false)]);
    p.handle(Event::CommUp);
    started(&mut p, 0, 10, 0);
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Code(100),
        now_ms: 5,
    });
    assert!(starts(&acts).is_empty());
    assert_eq!(
        logs(&acts),
        vec!["Managed /bin/a process 10 exited with return code 100."]
    );
}

#[test]
fn a_crash_loop_stops_after_ten_short_restarts() {
    let mut p = Policy::new(vec![spec("/bin/false", false)]);
    p.handle(Event::CommUp);
    let mut now = 0;
    let mut restarts = 0;
    for pid in 1.. {
        started(&mut p, 0, pid, now);
        now += 1000;
        let acts = p.handle(Event::Exited {
            idx: 0,
            ending: Ending::Code(1),
            now_ms: now,
        });
        match starts(&acts).as_slice() {
            [] => {
                assert_eq!(
                    logs(&acts).last().map(String::as_str),
                    Some("Client /bin/false \"respawning too fast\"")
                );
                break;
            }
            // Every restart after a short run waits a second.
            [(0, delay)] => {
                assert_eq!(*delay, SHORT_RUN_DELAY_MS);
                restarts += 1;
            }
            other => panic!("unexpected starts {other:?}"),
        }
        assert!(pid < 50, "never gave up");
    }
    assert_eq!(restarts, MAX_SHORT_RUNS);
}

#[test]
fn a_long_run_resets_the_short_run_count() {
    let mut p = Policy::new(vec![spec("/bin/a", false)]);
    p.handle(Event::CommUp);
    let mut now = 0;
    for pid in 1..=30 {
        started(&mut p, 0, pid, now);
        // Every fifth run is long.
        now += if pid % 5 == 0 { 31_000 } else { 10 };
        let acts = p.handle(Event::Exited {
            idx: 0,
            ending: Ending::Code(1),
            now_ms: now,
        });
        assert_eq!(starts(&acts).len(), 1, "run {pid}");
    }
}

#[test]
fn failfast_fences_on_abnormal_exit_only() {
    let mut p = Policy::new(vec![spec("/bin/ff", true)]);
    p.handle(Event::CommUp);
    started(&mut p, 0, 7, 0);
    // A clean exit is respawned like any client.
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Code(0),
        now_ms: 50_000,
    });
    assert_eq!(starts(&acts), vec![(0, 0)]);
    started(&mut p, 0, 8, 50_000);
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Signal(9),
        now_ms: 60_000,
    });
    assert!(acts.contains(&Act::SelfFence {
        reason: "/bin/ff".into()
    }));
    assert!(logs(&acts).contains(&"Rebooting system.  Reason: /bin/ff".to_string()));
    assert!(starts(&acts).is_empty());
}

#[test]
fn failfast_nonzero_exit_fences() {
    let mut p = Policy::new(vec![spec("/bin/ff", true)]);
    p.handle(Event::CommUp);
    started(&mut p, 0, 7, 0);
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Code(3),
        now_ms: 1,
    });
    assert!(matches!(acts.last(), Some(Act::SelfFence { .. })));
}

#[test]
fn shutdown_stops_clients_last_first_one_at_a_time() {
    let mut p = Policy::new(vec![
        spec("/bin/a", false),
        spec("/bin/b", true),
        spec("/bin/c", false),
    ]);
    p.handle(Event::CommUp);
    started(&mut p, 0, 10, 0);
    started(&mut p, 1, 11, 0);
    // /bin/c exited with 100 and is not running.
    p.handle(Event::Started {
        idx: 2,
        pid: 12,
        now_ms: 0,
    });
    p.handle(Event::Exited {
        idx: 2,
        ending: Ending::Code(100),
        now_ms: 1,
    });
    let acts = p.handle(Event::Shutdown);
    assert_eq!(
        acts,
        vec![
            Act::Log(
                Level::Info,
                "killing /bin/b process group 11 with signal 15".into()
            ),
            Act::Kill {
                idx: 1,
                pid: 11,
                signal: libc::SIGTERM
            }
        ]
    );
    // A failfast client stopped by us (SIGTERM, exit code != 0) is no
    // reason to fence; nothing is restarted.
    let acts = p.handle(Event::Exited {
        idx: 1,
        ending: Ending::Code(143),
        now_ms: 2,
    });
    assert_eq!(
        acts,
        vec![
            Act::Log(
                Level::Info,
                "killing /bin/a process group 10 with signal 15".into()
            ),
            Act::Kill {
                idx: 0,
                pid: 10,
                signal: libc::SIGTERM
            }
        ]
    );
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Code(0),
        now_ms: 3,
    });
    assert_eq!(acts, vec![Act::AllStopped]);
    assert!(p.handle(Event::Shutdown).is_empty());
}

#[test]
fn shutdown_without_running_clients_is_immediate() {
    let mut p = Policy::new(vec![spec("/bin/a", false)]);
    assert_eq!(p.handle(Event::Shutdown), vec![Act::AllStopped]);
    // Comm-up after shutdown started starts nothing.
    assert!(p.handle(Event::CommUp).is_empty());
    let mut none = Policy::new(Vec::new());
    assert_eq!(none.handle(Event::Shutdown), vec![Act::AllStopped]);
}

#[test]
fn shutdown_waits_for_a_pending_start_then_stops_it() {
    let mut p = Policy::new(vec![spec("/bin/a", false)]);
    p.handle(Event::CommUp);
    assert!(p.handle(Event::Shutdown).is_empty());
    let acts = p.handle(Event::Started {
        idx: 0,
        pid: 5,
        now_ms: 0,
    });
    assert!(acts.contains(&Act::Kill {
        idx: 0,
        pid: 5,
        signal: libc::SIGTERM
    }));
    let acts = p.handle(Event::Exited {
        idx: 0,
        ending: Ending::Signal(15),
        now_ms: 1,
    });
    assert_eq!(acts, vec![Act::AllStopped]);
}
