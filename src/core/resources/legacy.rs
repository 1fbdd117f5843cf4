//! The group request protocol of `rc.d/ip-request` and `rc.d/ip-request-resp`
//! (all modes; legacy mode uses it for start-up and failback).

use super::jobs::After;
use super::{log, msgs, ResourceManager};
use crate::core::upper::UpperCtx;
use crate::core::Level;
use crate::wire::Message;

fn group_key(msg: &Message) -> Option<&str> {
    msg.get_str(msgs::F_IPADDR).filter(|k| !k.is_empty())
}

impl ResourceManager {
    /// A peer asks for a group: release it if we run it, then answer.
    pub(super) fn on_ip_request(&mut self, ctx: &mut UpperCtx, from: &str, msg: &Message) {
        if !self.comm_up || !self.opts.manage_resources || from == self.local {
            return;
        }
        let Some(key) = group_key(msg) else {
            log(
                ctx,
                Level::Error,
                format!("ip-request from {from} without ipaddr"),
            );
            return;
        };
        let key = key.to_string();
        let weown = self.owned.contains(&key);
        let then = After::IpRequestReply {
            to: from.to_string(),
            key: key.clone(),
            weown,
        };
        if weown {
            self.queue_give(vec![key], then);
        } else {
            self.queue_step(then);
        }
    }

    /// A grant: if it is for us, take the group.
    pub(super) fn on_ip_request_resp(&mut self, ctx: &mut UpperCtx, msg: &Message) {
        if !self.comm_up || !self.opts.manage_resources {
            return;
        }
        if msg.get_str(msgs::F_DEST) != Some(self.local.as_str()) {
            return;
        }
        let Some(key) = group_key(msg) else {
            log(ctx, Level::Error, "ip-request-resp without ipaddr");
            return;
        };
        let key = key.to_string();
        if !self.keys.contains(&key) {
            log(
                ctx,
                Level::Error,
                format!("ip-request-resp for unknown group {key}"),
            );
            return;
        }
        let ok = msg.get_str(msgs::F_OK).unwrap_or("");
        let weown = msg.get_str(msgs::F_WEOWN).unwrap_or("");
        let text = format!("received ip-request-resp {key} {ok} {weown}");
        log(ctx, Level::Info, text);
        // Our addition: nothing is started once we are giving everything up.
        if ok == "OK" && !self.shutdown_in_progress {
            self.queue_take(vec![key], After::Granted);
        }
    }
}
