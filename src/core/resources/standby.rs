//! The 3-phase standby protocol (`ask_for_resources`, `go_standby`) and the
//! `hb_takeover` request that makes us start it.
//!
//! A (going standby) sends `me`; B answers `other`; A releases the set and
//! says `done`; B acquires the set and says `done`; both then report stable
//! holdings. `rsc_hold` always names the set from A's point of view.

use super::jobs::After;
use super::{arm, cancel, log, msgs, Holdings, ResourceManager, RscState, Standby, TIMER_STANDBY};
use crate::core::upper::UpperCtx;
use crate::core::Level;
use crate::wire::Message;

/// Time for the other node to answer `me`.
const STANDBY_REPLY_MS: u64 = 10_000;
/// Time for the whole resource hand-over.
const STANDBY_RESOURCES_MS: u64 = 60 * 60 * 1000;

impl ResourceManager {
    fn set_standby_deadline(&mut self, ctx: &mut UpperCtx, deadline: Option<u64>) {
        self.standby_deadline = deadline;
        match deadline {
            Some(at) => arm(ctx, TIMER_STANDBY, at),
            None => cancel(ctx, TIMER_STANDBY),
        }
    }

    pub(super) fn cancel_standby(&mut self, ctx: &mut UpperCtx) {
        self.standby = Standby::Not;
        self.set_standby_deadline(ctx, None);
    }

    /// The standby operation ran out of time.
    pub(super) fn standby_timer(&mut self, ctx: &mut UpperCtx) {
        let Some(deadline) = self.standby_deadline else {
            return;
        };
        if ctx.now().mono_ms < deadline {
            arm(ctx, TIMER_STANDBY, deadline);
            return;
        }
        self.standby_deadline = None;
        self.peer_stable = true;
        self.standby = Standby::Not;
        log(
            ctx,
            Level::Warn,
            "No reply to standby request.  Standby request cancelled.",
        );
    }

    /// `hb_takeover R` from a peer: its `rc.d/hb_takeover` runs
    /// `hb_standby` here with the set seen from us.
    pub(super) fn on_takeover_request(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if !self.comm_up || !self.opts.manage_resources || from == self.local {
            return;
        }
        let set = match msg.get_str(msgs::F_RSC_HOLD) {
            Some("local") => Holdings::FOREIGN,
            Some("foreign") => Holdings::LOCAL,
            // all, failback, or nothing: hb_standby without argument.
            _ => Holdings::ALL,
        };
        log(ctx, Level::Info, format!("Going standby [{}].", set.name()));
        ctx.send(msgs::ask_resources(set, "me"));
    }

    /// `ask_for_resources`.
    pub(super) fn on_ask_resources(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if !self.comm_up {
            return;
        }
        if !self.nice {
            let text = "Standby mode only implemented when nice_failback on";
            log(ctx, Level::Info, text);
            return;
        }
        if self.state == RscState::Shutdown {
            log(ctx, Level::Debug, "standby message ignored during shutdown");
            return;
        }
        let set = match msg.get_str(msgs::F_RSC_HOLD) {
            None => Holdings::ALL,
            Some(word) => Holdings::parse(word).unwrap_or_else(|| {
                let text = format!("encode_resources: bad resource type [{word}]");
                log(ctx, Level::Error, text);
                Holdings::NONE
            }),
        };
        let Some(info) = msg.get_str(msgs::F_INFO) else {
            log(
                ctx,
                Level::Error,
                "Received standby message without info/from",
            );
            return;
        };
        let info = info.to_string();
        let from_me = from == self.local;
        let now = ctx.now().mono_ms;
        let is = |word: &str| info.eq_ignore_ascii_case(word);
        if let Some(deadline) = self.standby_deadline.filter(|d| now < *d) {
            if is("me") {
                let secs = (deadline - now).div_ceil(1000);
                let text = format!(
                    "Standby in progress- new request from {from} ignored [{secs} seconds left]"
                );
                log(ctx, Level::Warn, text);
                return;
            }
        }
        let orig = self.standby;
        let handled = match self.standby {
            Standby::Not => {
                if !self.peer_stable {
                    let text = format!(
                        "standby message [{info}] from {from} ignored.  Other side is in flux."
                    );
                    log(ctx, Level::Warn, text);
                    return;
                }
                if self.state != RscState::Stable {
                    let text = format!(
                        "standby message [{info}] from {from} ignored.  local resources in flux."
                    );
                    log(ctx, Level::Warn, text);
                    return;
                }
                self.standby_set = set;
                if is("me") {
                    self.peer_stable = false;
                    let text = format!("{from} wants to go standby [{}]", set.name());
                    log(ctx, Level::Info, text);
                    if from_me {
                        self.set_standby_deadline(ctx, Some(now + STANDBY_REPLY_MS));
                        self.standby = Standby::Me;
                    } else {
                        self.standby = Standby::Other;
                        ctx.send(msgs::ask_resources(self.standby_set, "other"));
                        self.set_standby_deadline(ctx, Some(now + STANDBY_RESOURCES_MS));
                    }
                    true
                } else {
                    false
                }
            }
            Standby::Me => {
                if !from_me {
                    self.standby_set = set;
                    self.set_standby_deadline(ctx, Some(now + STANDBY_RESOURCES_MS));
                    if is("other") {
                        let text = format!("standby: {from} can take our {} resources", set.name());
                        log(ctx, Level::Info, text);
                        self.go_standby(ctx, true, set);
                        true
                    } else {
                        false
                    }
                } else if is("done") {
                    let text = format!("Local standby process completed [{}].", set.name());
                    log(ctx, Level::Info, text);
                    self.standby = Standby::Done;
                    self.holds = self.holds.without(self.standby_set);
                    self.set_standby_deadline(ctx, Some(now + STANDBY_RESOURCES_MS));
                    true
                } else {
                    false
                }
            }
            Standby::Other => {
                self.standby_set = set;
                if is("done") {
                    self.set_standby_deadline(ctx, Some(now + STANDBY_RESOURCES_MS));
                    if !from_me {
                        let text =
                            format!("standby: acquire [{}] resources from {from}", set.name());
                        log(ctx, Level::Info, text);
                        self.go_standby(ctx, false, self.standby_set);
                        self.standby = Standby::Done;
                        true
                    } else {
                        false
                    }
                } else {
                    // Our own "other" is expected here; anything else is not.
                    from_me && is("other")
                }
            }
            Standby::Done => {
                self.standby_set = set;
                if info == "done" {
                    self.set_standby_deadline(ctx, None);
                    self.standby = Standby::Not;
                    if from_me {
                        let text = format!("Standby resource acquisition done [{}].", set.name());
                        log(ctx, Level::Info, text);
                        if self.auto_failback {
                            self.local_work_done = true;
                            self.announce_takeover(ctx, "auto_failback");
                        }
                        self.holds = self.holds.with(set.swapped());
                    } else {
                        let text = format!(
                            "Other node completed standby takeover of {} resources.",
                            set.name()
                        );
                        log(ctx, Level::Info, text);
                    }
                    self.send_held(ctx, true, None);
                    true
                } else {
                    false
                }
            }
        };
        if !handled {
            let text = format!(
                "Ignored standby message '{info}' from {from} in state {}",
                orig as u8
            );
            log(ctx, Level::Error, text);
        }
    }

    /// `go_standby`: give up (`give`) or acquire `set` (named from the
    /// initiator's side, so the taker maps local and foreign), then say done.
    pub(super) fn go_standby(&mut self, ctx: &mut UpperCtx, give: bool, set: Holdings) {
        if give {
            // The peer is about to pick our groups up.
            self.peer_stable = false;
            self.holds = self.holds.without(set);
            self.send_held(ctx, false, Some("standby"));
        }
        let action = if give { "give up" } else { "acquire" };
        let ours = match set {
            Holdings::FOREIGN | Holdings::LOCAL if !give => set.swapped(),
            Holdings::FOREIGN | Holdings::LOCAL | Holdings::ALL => set,
            _ => {
                log(ctx, Level::Error, format!("no resources to {action}"));
                return;
            }
        };
        let text = format!("{action} {} HA resources (standby).", ours.name());
        log(ctx, Level::Info, text);
        let keys = self.keys.of_set(ours);
        let then = After::StandbyDone {
            acquire: !give,
            set: ours,
            announce: self.standby_set,
        };
        if give {
            self.queue_give(keys, then);
        } else {
            self.queue_take(keys, then);
        }
    }
}
