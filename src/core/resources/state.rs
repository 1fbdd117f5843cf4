//! The resource state (`hb_rsc_state`) and the standby phase
//! (`going_standby`) with the names and numbers Heartbeat logs.

/// Heartbeat's `hb_rsc_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RscState {
    Init,
    Starting,
    BothStarting,
    RscRcvd,
    Stable,
    Shutdown,
}

impl RscState {
    pub(super) fn name(self) -> &'static str {
        match self {
            RscState::Init => "INIT",
            RscState::Starting => "STARTING",
            RscState::BothStarting => "BOTHSTARTING",
            RscState::RscRcvd => "RSCRCVD",
            RscState::Stable => "STABLE",
            RscState::Shutdown => "SHUTDOWN",
        }
    }

    /// The number Heartbeat prints in its logs.
    pub(super) fn number(self) -> u8 {
        self as u8
    }
}

/// Heartbeat's `going_standby`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Standby {
    Not,
    Me,
    Other,
    Done,
}

impl Standby {
    pub(super) fn name(self) -> &'static str {
        match self {
            Standby::Not => "NOT",
            Standby::Me => "ME",
            Standby::Other => "OTHER",
            Standby::Done => "DONE",
        }
    }
}
