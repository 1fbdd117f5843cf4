//! The poll loop's side of the split-brain guards: STONITH reset children
//! (`Action::Fence` → `Input::FenceDone`) and the `watchdog DEV` writes.

use std::io;
use std::time::Instant;

use mio::Token;

use super::EventLoop;
use crate::core::{Input, Level};
use crate::daemon::watchdog::{Notes, Watchdog};
use crate::runner::stonith::{StonithEvent, StonithRunner};
use crate::wire::Message;

/// Token of the STONITH children (far from the other fixed tokens).
pub(super) const STONITH_TOKEN: Token = Token(usize::MAX - 40);

#[derive(Default)]
pub(super) struct Guards {
    stonith: Option<StonithRunner>,
    watchdog: Option<Watchdog>,
}

impl Guards {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.stonith.as_ref().and_then(|s| s.next_deadline())
    }
}

impl EventLoop {
    /// Use this STONITH device for `Action::Fence` (none: nothing to reset;
    /// the core then never asks).
    pub fn set_stonith(&mut self, mut runner: StonithRunner) -> io::Result<()> {
        runner.register(self.poll.registry(), STONITH_TOKEN)?;
        self.guards.stonith = Some(runner);
        Ok(())
    }

    /// Feed this watchdog from now on.
    pub fn set_watchdog(&mut self, watchdog: Watchdog) {
        self.guards.watchdog = Some(watchdog);
    }

    pub(super) fn start_fence(&mut self, node: &str) {
        match &mut self.guards.stonith {
            Some(runner) => runner.start(node),
            None => {
                self.logger.log(
                    Level::Error,
                    &format!("Cannot reset {node}: no STONITH device configured."),
                );
                self.feed(Input::FenceDone {
                    node: node.to_string(),
                    result: crate::core::FenceResult::Failed,
                });
            }
        }
        self.stonith_events();
    }

    /// Comm is up: check the STONITH device (then hourly), as Heartbeat.
    pub(super) fn stonith_status_check(&mut self) {
        if let Some(runner) = &mut self.guards.stonith {
            runner.check_status();
        }
        self.stonith_events();
    }

    pub(super) fn stonith_event(&mut self) {
        if let Some(runner) = &mut self.guards.stonith {
            runner.handle_event();
        }
        self.stonith_events();
    }

    pub(super) fn stonith_deadline(&mut self) {
        let now = Instant::now();
        if let Some(runner) = &mut self.guards.stonith {
            if runner.next_deadline().is_some_and(|d| d <= now) {
                runner.on_deadline(now);
            }
        }
        self.stonith_events();
    }

    fn stonith_events(&mut self) {
        let events = match &mut self.guards.stonith {
            Some(runner) => runner.poll_events(),
            None => return,
        };
        for event in events {
            match event {
                StonithEvent::Log { level, text } => self.logger.log(level, &text),
                StonithEvent::Done { node, result } => self.feed(Input::FenceDone { node, result }),
            }
        }
    }

    /// Our own status heartbeat is going out: the loop is alive.
    pub(super) fn watchdog_tickle(&mut self, msg: &Message) {
        let Some(dog) = &mut self.guards.watchdog else {
            return;
        };
        let own_status =
            msg.msg_type() == Some("status") && msg.get_str("src") == Some(self.core.local_node());
        if !own_status {
            return;
        }
        let mut notes = Notes::new();
        dog.tickle(&mut notes);
        self.log_notes(notes);
    }

    /// Graceful shutdown begins: magic close.
    pub(super) fn watchdog_close(&mut self) {
        let Some(dog) = &mut self.guards.watchdog else {
            return;
        };
        let mut notes = Notes::new();
        dog.close(&mut notes);
        self.log_notes(notes);
    }

    fn log_notes(&mut self, notes: Notes) {
        for (level, text) in notes {
            self.logger.log(level, &text);
        }
    }
}
