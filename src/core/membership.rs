//! Membership (§6): status heartbeats, node and link liveness, comm-up
//! with the `reqnodes`/`repnodes` exchange, and the local status.

use super::engine::{arm, cancel, log, Core, Shutdown};
use super::fields::*;
use super::outbound;
use super::{Action, Level, LinkIndex, Now, TimerKey};
use crate::wire::Message;

/// `reqnodes` is repeated this often until a `repnodes` arrives.
const REQNODES_RETRY_MS: u64 = 1000;

impl Core {
    /// The dead interval currently applied to a node: `initdead` until
    /// everybody was heard from, then what the node advertised in `dt`.
    fn dead_interval(&self, idx: usize) -> u64 {
        if self.links_up {
            self.nodes[idx].dead_interval_ms
        } else {
            self.p.initdead_ms
        }
    }

    /// Dead once *more* than the interval passed without a status (as
    /// Heartbeat compares), i.e. from `last + interval + 1` ms on.
    fn node_deadline(&self, idx: usize) -> Option<u64> {
        let last = self.nodes[idx].last_status_rx_ms?;
        Some(
            last.saturating_add(self.dead_interval(idx))
                .saturating_add(1),
        )
    }

    fn link_deadline(&self, idx: usize, link: LinkIndex) -> Option<u64> {
        let last = self.nodes[idx].links.get(link)?.last_rx_ms?;
        Some(
            last.saturating_add(self.dead_interval(idx))
                .saturating_add(1),
        )
    }

    pub(super) fn arm_node_dead(&self, idx: usize, out: &mut Vec<Action>) {
        if idx == self.local || self.nodes[idx].is_dead() {
            return;
        }
        if let Some(at) = self.node_deadline(idx) {
            arm(out, TimerKey::NodeDead(self.nodes[idx].name.clone()), at);
        }
    }

    fn arm_link_dead(&self, idx: usize, link: LinkIndex, out: &mut Vec<Action>) {
        if idx == self.local {
            return;
        }
        if let Some(at) = self.link_deadline(idx, link) {
            let key = TimerKey::LinkDead(self.nodes[idx].name.clone(), link);
            arm(out, key, at);
        }
    }

    /// A packet from the node arrived on the link (accepted or duplicate).
    pub(super) fn refresh_link(
        &mut self,
        now: Now,
        idx: usize,
        link: LinkIndex,
        out: &mut Vec<Action>,
    ) {
        let Some(l) = self.nodes[idx].links.get_mut(link) else {
            return;
        };
        l.last_rx_ms = Some(now.mono_ms);
        if !l.up {
            l.up = true;
            let node = self.nodes[idx].name.clone();
            let text = format!("Link {node}:{} up.", self.link_name(Some(link)));
            log(out, Level::Info, text);
            out.push(Action::LinkStatus {
                node,
                link,
                up: true,
            });
        }
        self.arm_link_dead(idx, link, out);
    }

    fn link_dead(&mut self, idx: usize, link: LinkIndex, out: &mut Vec<Action>) {
        let Some(l) = self.nodes[idx].links.get_mut(link) else {
            return;
        };
        l.up = false;
        let node = self.nodes[idx].name.clone();
        let text = format!("Link {node}:{} dead.", self.link_name(Some(link)));
        log(out, Level::Info, text);
        out.push(Action::LinkStatus {
            node,
            link,
            up: false,
        });
    }

    pub(super) fn on_link_dead_timer(
        &mut self,
        now: Now,
        name: &str,
        link: LinkIndex,
        out: &mut Vec<Action>,
    ) {
        let Some(idx) = self.node_index(name).filter(|i| *i != self.local) else {
            return;
        };
        if !self.nodes[idx].links.get(link).is_some_and(|l| l.up) {
            return;
        }
        match self.link_deadline(idx, link) {
            Some(at) if now.mono_ms < at => self.arm_link_dead(idx, link, out),
            _ => self.link_dead(idx, link, out),
        }
    }

    pub(super) fn on_node_dead_timer(&mut self, now: Now, name: &str, out: &mut Vec<Action>) {
        let Some(idx) = self.node_index(name).filter(|i| *i != self.local) else {
            return;
        };
        if self.nodes[idx].is_dead() {
            return;
        }
        match self.node_deadline(idx) {
            None => {}
            Some(at) if now.mono_ms < at => self.arm_node_dead(idx, out),
            Some(_) => {
                self.mark_node_dead(now, idx, out);
                // Heartbeat checks the links in the same pass.
                for link in 0..self.nodes[idx].links.len() {
                    let overdue = self
                        .link_deadline(idx, link)
                        .is_some_and(|at| now.mono_ms >= at);
                    if self.nodes[idx].links[link].up && overdue {
                        self.link_dead(idx, link, out);
                    }
                }
                self.check_comm(now, out);
            }
        }
    }

    pub(super) fn mark_node_dead(&mut self, now: Now, idx: usize, out: &mut Vec<Action>) {
        let name = self.nodes[idx].name.clone();
        log(out, Level::Warn, format!("node {name}: is dead"));
        let n = &mut self.nodes[idx];
        n.status = DEADSTATUS.to_string();
        n.last_status_ts = 0;
        n.any_packets = false;
        let mut events = Vec::new();
        n.track.reset(&mut events);
        self.apply_seq_events(now, idx, events, out);
        cancel(out, TimerKey::NodeDead(name.clone()));
        out.push(Action::NodeStatus {
            node: name.clone(),
            status: DEADSTATUS.to_string(),
        });
        self.call_upper(now, out, |up, ctx| {
            up.on_node_status(ctx, &name, DEADSTATUS)
        });
    }

    /// `HBDoMsg_T_STATUS`.
    pub(super) fn handle_status(
        &mut self,
        now: Now,
        idx: usize,
        seq: u64,
        ts: u64,
        msg: &Message,
        out: &mut Vec<Action>,
    ) {
        let Some(st) = msg.get_str(F_STATUS) else {
            let text = "HBDoMsg_T_STATUS: status update without st field";
            log(out, Level::Error, text.into());
            return;
        };
        if st.is_empty() || st.len() > MAX_STATUS_LEN || !st.bytes().all(|b| b.is_ascii_graphic()) {
            log(out, Level::Error, "HBDoMsg_T_STATUS: bad st field".into());
            return;
        }
        let st = st.to_string();
        let node = self.nodes[idx].name.clone();
        {
            let n = &self.nodes[idx];
            if ts < n.last_status_ts && seq < n.status_seqno {
                return; // we already have a newer status
            }
        }
        let has_protocol = msg
            .get_str(F_PROTOCOL)
            .is_some_and(|v| v.trim().parse::<i64>().is_ok());
        if self.flow_control && !has_protocol {
            let text = "flow control disabled due to different version heartbeat";
            log(out, Level::Info, text.into());
            self.flow_control = false;
        }
        if let Some(last) = self.nodes[idx].last_status_rx_ms {
            let interval = now.mono_ms.saturating_sub(last);
            if interval > self.p.deadtime_ms {
                self.counters.late_heartbeats += 1;
                let text =
                    format!("Late heartbeat: Node {node}: interval {interval} ms (> deadtime)");
                log(out, Level::Crit, text);
                if idx != self.local {
                    self.mark_node_dead(now, idx, out);
                }
            } else if interval > self.p.warntime_ms {
                self.counters.late_heartbeats += 1;
                let text = format!("Late heartbeat: Node {node}: interval {interval} ms");
                log(out, Level::Warn, text);
            }
        }
        if idx != self.local && !self.nodes[idx].status.eq_ignore_ascii_case(&st) {
            log(
                out,
                Level::Info,
                format!("Status update for node {node}: status {st}"),
            );
            self.nodes[idx].status = st.clone();
            out.push(Action::NodeStatus {
                node: node.clone(),
                status: st.clone(),
            });
            self.call_upper(now, out, |up, ctx| up.on_node_status(ctx, &node, &st));
        }
        let n = &mut self.nodes[idx];
        if let Some(dt) = msg.get_str(F_DT).and_then(parse_hex) {
            n.dead_interval_ms = dt;
        }
        n.last_status_ts = ts;
        n.last_status_rx_ms = Some(now.mono_ms);
        n.status_seqno = seq;
        self.arm_node_dead(idx, out);
    }

    /// Same-generation status from a node we declared dead (§5.2).
    pub(super) fn partition_healed(&mut self, now: Now, idx: usize, out: &mut Vec<Action>) {
        let node = self.nodes[idx].name.clone();
        let lines = [
            (
                Level::Crit,
                format!("Cluster node {node} returning after partition."),
            ),
            (
                Level::Info,
                "For information on cluster partitions, See URL: http://linux-ha.org/wiki/Split_Brain"
                    .to_string(),
            ),
            (Level::Warn, "Deadtime value may be too small.".to_string()),
            (
                Level::Info,
                "See FAQ for information on tuning deadtime.".to_string(),
            ),
            (
                Level::Info,
                "URL: http://linux-ha.org/wiki/FAQ#Heavy_Load".to_string(),
            ),
        ];
        for (level, text) in lines {
            log(out, level, text);
        }
        self.call_upper(now, out, |up, ctx| up.on_partition_healed(ctx, &node));
    }

    /// Change and announce our own status (`set_local_status`).
    pub(super) fn set_local_status(&mut self, now: Now, status: &str, out: &mut Vec<Action>) {
        if self.nodes[self.local].status == status {
            let text = format!("Unable to set local status to: {status}");
            log(out, Level::Info, text);
            return;
        }
        self.nodes[self.local].status = status.to_string();
        self.send_local_status(now, out);
        log(
            out,
            Level::Info,
            format!("Local status now set to: '{status}'"),
        );
        let node = self.p.local_node.clone();
        out.push(Action::NodeStatus {
            node: node.clone(),
            status: status.to_string(),
        });
        self.call_upper(now, out, |up, ctx| up.on_node_status(ctx, &node, status));
    }

    /// `check_comm_isup`: once every node was heard from or is dead, ask a
    /// peer for its node list (flow control on) or come up directly.
    pub(super) fn check_comm(&mut self, now: Now, out: &mut Vec<Action>) {
        if self.links_up || self.starting || !self.started {
            return;
        }
        if !self.nodes.iter().all(|n| n.any_packets || n.is_dead()) || !self.pings_heard_or_dead() {
            return;
        }
        self.links_up = true;
        // From now on each node's own dt applies instead of initdead.
        for idx in self.peer_indices() {
            self.arm_node_dead(idx, out);
            for link in 0..self.nodes[idx].links.len() {
                if self.nodes[idx].links[link].up {
                    self.arm_link_dead(idx, link, out);
                }
            }
        }
        self.ping_rearm_all(out);
        if self.flow_control {
            self.send_reqnodes(now, out);
        } else {
            self.comm_now_up(now, out);
        }
    }

    /// Ask the first live peer (from the last one asked on) for its node list.
    pub(super) fn send_reqnodes(&mut self, now: Now, out: &mut Vec<Action>) {
        if self.reqnodes_reply {
            return;
        }
        let start = if self.reqnodes_from >= self.nodes.len() {
            0
        } else {
            self.reqnodes_from
        };
        let dest =
            (start..self.nodes.len()).find(|i| *i != self.local && !self.nodes[*i].is_dead());
        let Some(dest) = dest else {
            self.reqnodes_reply = true;
            self.comm_now_up(now, out);
            return;
        };
        self.reqnodes_from = dest;
        let msg = outbound::reqnodes(&self.nodes[dest].name.clone());
        self.send(now, msg, out);
        arm(out, TimerKey::ReqNodes, now.mono_ms + REQNODES_RETRY_MS);
    }

    /// `comm_now_up`: become `active` (once).
    pub(super) fn comm_now_up(&mut self, now: Now, out: &mut Vec<Action>) {
        if self.comm_up {
            return;
        }
        self.comm_up = true;
        cancel(out, TimerKey::ReqNodes);
        log(
            out,
            Level::Info,
            "Comm_now_up(): updating status to active".into(),
        );
        self.set_local_status(now, ACTIVESTATUS, out);
        out.push(Action::CommUp);
        self.call_upper(now, out, |up, ctx| up.on_comm_up(ctx));
        if self.shutdown == Shutdown::WaitingForComm {
            self.initiate_shutdown(now, out);
        }
    }

    /// A peer asks for our node list: all configured nodes, each followed
    /// by a space, and an empty deleted-node list.
    pub(super) fn handle_reqnodes(&mut self, now: Now, idx: usize, out: &mut Vec<Action>) {
        if idx == self.local {
            let text = "HBDoMsg_T_REQNODES: get reqnodes msg from myself!";
            log(out, Level::Error, text.into());
            return;
        }
        // The requester comes up on our reply, and a legacy node then
        // decides whether to self-grant its groups by who is `active`. A
        // real 3.0.6 answers on its next status tick, so the requester has
        // its status first; we answer at once, so send our status first
        // when it has not had one since it (re)started.
        let had_status = matches!(
            (self.last_local_status_ms, self.nodes[idx].life_started_ms),
            (Some(sent), Some(life)) if sent >= life
        );
        if !had_status {
            self.send_local_status(now, out);
        }
        let dest = self.nodes[idx].name.clone();
        let msg = outbound::repnodes(&dest, self.p.nodes.iter().map(String::as_str));
        self.send(now, msg, out);
    }

    /// The node list we asked for. Dynamic membership is not supported, so
    /// a different list is only reported; any reply completes comm-up.
    pub(super) fn handle_repnodes(
        &mut self,
        now: Now,
        idx: usize,
        msg: &Message,
        out: &mut Vec<Action>,
    ) {
        if idx == self.local {
            return;
        }
        if let Some(list) = msg.get_str(F_NODELIST) {
            let mut theirs: Vec<&str> = list.split(' ').filter(|s| !s.is_empty()).collect();
            let mut ours: Vec<&str> = self.p.nodes.iter().map(String::as_str).collect();
            theirs.sort_unstable();
            ours.sort_unstable();
            if theirs != ours {
                let node = &self.nodes[idx].name;
                let text = format!(
                    "repnodes from {node} lists [{}], ours is [{}]: node lists differ (dynamic membership is not supported)",
                    theirs.join(" "),
                    ours.join(" ")
                );
                log(out, Level::Warn, text);
            }
        }
        if msg.get(F_NODELIST).is_some() || msg.get(F_DELNODELIST).is_some() {
            self.reqnodes_reply = true;
        }
        self.comm_now_up(now, out);
    }
}
