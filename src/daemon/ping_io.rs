//! The event loop's side of the ping medium: echo requests for our status
//! messages, replies into the core, send errors logged with Heartbeat's
//! throttle. No decisions: the core judges every reply.

use std::io;

use mio::{Registry, Token};

use crate::core::Level;
use crate::media::ping::{PingMedium, Reply};
use crate::media::SendErrorThrottle;
use crate::wire::{Keyring, Message};

/// Rejected replies are logged at most this often (the counter sees all).
const REJECT_LOG_INTERVAL_MS: u64 = 10_000;

pub struct PingIo {
    medium: PingMedium,
    throttle: SendErrorThrottle,
    /// Replies of ours that were refused (bad signature, wrong sender...).
    pub rejected: u64,
    last_reject_log_ms: Option<u64>,
    /// More replies may be queued (stopped at the batch limit).
    pub pending: bool,
}

impl PingIo {
    pub fn new(medium: PingMedium) -> PingIo {
        PingIo {
            medium,
            throttle: SendErrorThrottle::default(),
            rejected: 0,
            last_reject_log_ms: None,
            pending: false,
        }
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        self.medium.register(registry, token)
    }

    /// One echo request per ping host for an outgoing `t=status`; every
    /// other message is ignored by this medium, as in Heartbeat.
    pub fn on_transmit(&mut self, msg: &Message, keys: &Keyring) -> Vec<(Level, String)> {
        if msg.msg_type() != Some("status") {
            return Vec::new();
        }
        let Some(ts) = msg.get_str("ts") else {
            return Vec::new();
        };
        let errors = self.medium.send_status(ts, keys);
        let mut lines = Vec::new();
        if errors.is_empty() {
            self.throttle.note("ping", &Ok(()));
        }
        for (node, e) in errors {
            if let Some(text) = self.throttle.note(&format!("ping {node}"), &Err(e)) {
                lines.push((Level::Error, text));
            }
        }
        lines
    }

    /// Accepted replies for the core, plus lines to log.
    pub fn receive(&mut self, keys: &Keyring, now_ms: u64) -> (Vec<Message>, Vec<(Level, String)>) {
        let mut replies = Vec::new();
        let mut lines = Vec::new();
        match self.medium.recv(keys, &mut replies) {
            Ok(more) => self.pending = more,
            Err(e) => {
                self.pending = false;
                lines.push((Level::Error, format!("read error on ping: {e}")));
            }
        }
        let mut accepted = Vec::new();
        for reply in replies {
            match reply {
                Reply::Accepted(msg) => accepted.push(msg),
                Reply::NotOurs => {}
                Reply::Rejected(why) => {
                    self.rejected += 1;
                    let due = self
                        .last_reject_log_ms
                        .is_none_or(|t| now_ms.saturating_sub(t) >= REJECT_LOG_INTERVAL_MS);
                    if due {
                        self.last_reject_log_ms = Some(now_ms);
                        let text = format!(
                            "Dropped ping reply: {why} ({} refused so far)",
                            self.rejected
                        );
                        lines.push((Level::Warn, text));
                    }
                }
            }
        }
        (accepted, lines)
    }
}
