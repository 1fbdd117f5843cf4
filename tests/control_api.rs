//! The API socket server under misbehaving clients: partial frames, huge
//! lengths, garbage, clients that never read, floods, many clients; and
//! message delivery, sign-off, socket clean-up.

mod control_common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use control_common::{authz, lab_view, our_cl_status, TestServer};
use heartbeat_rs::control::framing::{frame_message, parse_body, FrameDecoder, IPC_MAGIC};
use heartbeat_rs::wire::Message;

fn wait_until(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// True once the server closed the connection (EOF), reading any replies.
fn closed_by_server(stream: &mut UnixStream, timeout: Duration) -> bool {
    stream
        .set_read_timeout(Some(timeout))
        .expect("read timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn request(reqtype: &str, extra: &[(&str, &str)]) -> Message {
    let pid = std::process::id().to_string();
    let mut m = Message::with_type("hbapi-req");
    m.push_str("reqtype", reqtype);
    m.push_str("dest", "alpha");
    m.push_str("pid", &pid);
    m.push_str("from_id", &pid);
    for (n, v) in extra {
        m.push_str(n, v);
    }
    m
}

/// A signed-on raw client.
struct Raw {
    stream: UnixStream,
    decoder: FrameDecoder,
}

impl Raw {
    fn signon(server: &TestServer) -> Raw {
        let stream = UnixStream::connect(&server.path).expect("connect");
        let mut raw = Raw {
            stream,
            decoder: FrameDecoder::new(),
        };
        let uid = nix::unistd::geteuid().as_raw().to_string();
        let gid = nix::unistd::getegid().as_raw().to_string();
        raw.send(&request("signon", &[("uid", &uid), ("gid", &gid)]));
        let reply = raw.recv().expect("signon reply");
        assert_eq!(reply.get_str("result"), Some("OK"), "{reply:?}");
        raw
    }

    fn send(&mut self, m: &Message) {
        self.stream.write_all(&frame_message(m)).expect("send");
    }

    fn recv(&mut self) -> Option<Message> {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut buf = [0u8; 8192];
        loop {
            if let Some(body) = self.decoder.next_frame().expect("frame") {
                return Some(parse_body(&body).expect("message"));
            }
            match self.stream.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.decoder.push(&buf[..n]),
            }
        }
    }
}

fn server() -> TestServer {
    TestServer::start_with(lab_view("both-active"), authz(false), Some(300))
}

/// The server still answers a normal client.
fn still_serving(server: &TestServer) {
    let run = our_cl_status(&server.path, &["nodestatus", "bravo"]);
    assert_eq!((run.out.as_str(), run.rc), ("active\n", 0), "{run:?}");
}

#[test]
fn partial_frame_is_dropped_after_the_stall_limit() {
    let server = server();
    let mut slow = UnixStream::connect(&server.path).expect("connect");
    let frame = frame_message(&request("signon", &[("uid", "0"), ("gid", "0")]));
    slow.write_all(&frame[..frame.len() / 2])
        .expect("half a frame");
    still_serving(&server);
    assert!(closed_by_server(&mut slow, Duration::from_secs(5)));
    assert!(wait_until(
        || server.counts().1 == 0,
        Duration::from_secs(2)
    ));
}

#[test]
fn silent_connection_is_dropped() {
    let server = server();
    let mut silent = UnixStream::connect(&server.path).expect("connect");
    assert!(closed_by_server(&mut silent, Duration::from_secs(5)));
}

#[test]
fn huge_length_and_garbage_close_at_once() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut huge = UnixStream::connect(&server.path).expect("connect");
    huge.write_all(&(1i32 << 30).to_ne_bytes()).expect("len");
    huge.write_all(&IPC_MAGIC.to_ne_bytes()).expect("magic");
    // Without a stall limit in play, only the bad header can close it.
    assert!(closed_by_server(&mut huge, Duration::from_secs(3)));

    let mut garbage = UnixStream::connect(&server.path).expect("connect");
    garbage
        .write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        .expect("garbage");
    assert!(closed_by_server(&mut garbage, Duration::from_secs(3)));

    let mut not_a_message = UnixStream::connect(&server.path).expect("connect");
    let body = b"hello\0";
    not_a_message
        .write_all(&(body.len() as i32).to_ne_bytes())
        .expect("len");
    not_a_message
        .write_all(&IPC_MAGIC.to_ne_bytes())
        .expect("magic");
    not_a_message.write_all(body).expect("body");
    assert!(closed_by_server(&mut not_a_message, Duration::from_secs(3)));
    still_serving(&server);
}

#[test]
fn client_that_never_reads_is_dropped() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut raw = Raw::signon(&server);
    raw.stream.set_nonblocking(true).expect("nonblocking");
    let req = frame_message(&request("x-status", &[]));
    let mut sent = 0usize;
    let started = Instant::now();
    // Keep asking without reading until the server gives up on us.
    let dropped = loop {
        match raw.stream.write(&req) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => break true,
        }
        if server.counts().1 == 0 {
            break true;
        }
        if started.elapsed() > Duration::from_secs(20) {
            break false;
        }
    };
    assert!(dropped, "still connected after sending {sent} bytes");
    still_serving(&server);
}

#[test]
fn a_flood_is_answered_in_full() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut raw = Raw::signon(&server);
    let count = 500;
    let mut burst = Vec::new();
    for _ in 0..count {
        burst.extend(frame_message(&request("getrsc", &[])));
    }
    raw.stream.write_all(&burst).expect("burst");
    for i in 0..count {
        let reply = raw.recv().unwrap_or_else(|| panic!("reply {i} missing"));
        assert_eq!(reply.get_str("rsc_hold"), Some("local"));
    }
}

#[test]
fn many_clients_at_once() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    // One process may sign on once (its pid is its client id): the idle
    // crowd is one signed-on client plus connections that never sign on.
    let mut idle: Vec<UnixStream> = (0..30)
        .map(|_| UnixStream::connect(&server.path).expect("connect"))
        .collect();
    let signed = Raw::signon(&server);
    idle.push(signed.stream);
    let path = server.path.clone();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || our_cl_status(&path, &["listnodes"]))
        })
        .collect();
    for run in runs {
        let run = run.join().expect("thread");
        assert_eq!((run.out.as_str(), run.rc), ("bravo\nalpha\n", 0));
    }
    let want = (1, idle.len());
    assert!(
        wait_until(|| server.counts() == want, Duration::from_secs(5)),
        "{:?}",
        server.counts()
    );
    drop(idle);
    assert!(wait_until(
        || server.counts().1 == 0,
        Duration::from_secs(5)
    ));
}

#[test]
fn signoff_closes_and_delivery_follows_to_id() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut a = Raw::signon(&server);
    let mut b = UnixStream::connect(&server.path).expect("connect");
    // b signs on under another id: use a child pid that is alive (ours is taken).
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("sleep");
    let other = child.id().to_string();
    let mut m = Message::with_type("hbapi-req");
    for (n, v) in [
        ("reqtype", "signon"),
        ("pid", other.as_str()),
        ("from_id", other.as_str()),
        ("uid", "0"),
        ("gid", "0"),
    ] {
        m.push_str(n, v);
    }
    b.write_all(&frame_message(&m)).expect("send");
    // SO_PEERCRED says the pid is ours, not the child's: refused.
    let mut raw_b = Raw {
        stream: b,
        decoder: FrameDecoder::new(),
    };
    let reply = raw_b.recv().expect("reply");
    assert_eq!(reply.get_str("info"), Some("pid mismatch"));
    assert!(closed_by_server(&mut raw_b.stream, Duration::from_secs(3)));
    let _ = child.kill();
    let _ = child.wait();

    let mut to_a = Message::with_type("respond-cstatus");
    to_a.push_str("to_id", &std::process::id().to_string());
    to_a.push_str("cs", "online");
    server.deliver(to_a.clone());
    let got = a.recv().expect("delivered");
    assert_eq!(got, to_a);
    let mut to_nobody = Message::with_type("respond-cstatus");
    to_nobody.push_str("to_id", "nobody");
    server.deliver(to_nobody);
    let mut broadcast = Message::with_type("status");
    broadcast.push_str("st", "active");
    server.deliver(broadcast.clone());
    assert_eq!(a.recv(), Some(broadcast), "only the broadcast reaches a");

    a.send(&request("signoff", &[]));
    assert!(closed_by_server(&mut a.stream, Duration::from_secs(3)));
}

#[test]
fn requests_before_eof_are_answered() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut raw = Raw::signon(&server);
    raw.send(&request("nodestatus", &[("node", "bravo")]));
    raw.stream
        .shutdown(std::net::Shutdown::Write)
        .expect("half close");
    let reply = raw.recv().expect("reply after our EOF");
    assert_eq!(reply.get_str("st"), Some("active"));
    assert!(closed_by_server(&mut raw.stream, Duration::from_secs(3)));
}

#[test]
fn close_removes_the_socket() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let path = server.path.clone();
    assert!(path.exists());
    server.stop();
    assert!(!path.exists());
}

/// `setfilter` without the KEEPIT bit (here: only a debug kind, allowed for
/// root) stops the delivery of cluster messages; KEEPIT brings it back.
#[test]
fn setfilter_without_keepit_stops_delivery() {
    let server = TestServer::start(lab_view("both-active"), authz(false));
    let mut a = Raw::signon(&server);
    let mut first = Message::with_type("ask_resources");
    first.push_str("rsc_hold", "all");
    a.send(&request("setfilter", &[("fmask", "2")]));
    let reply = a.recv().expect("setfilter reply");
    assert_eq!(reply.get_str("result"), Some("OK"), "{reply:?}");
    server.deliver(first);
    // A round trip through the server thread: the delivery is done.
    server.counts();
    a.send(&request("setfilter", &[("fmask", "1")]));
    let reply = a.recv().expect("setfilter reply");
    assert_eq!(
        (reply.get_str("reqtype"), reply.get_str("result")),
        (Some("setfilter"), Some("OK")),
        "the filtered message was delivered: {reply:?}"
    );
    let mut second = Message::with_type("resource");
    second.push_str("isstable", "1");
    server.deliver(second.clone());
    assert_eq!(a.recv(), Some(second));
}
