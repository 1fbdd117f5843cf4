//! A read-only snapshot of the resource manager for the API and status
//! queries, shared with the daemon (the manager itself lives inside the core).

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::ResourceJob;

/// What `cl_status rscstatus` and friends report.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResourceStatus {
    /// `none`, `local`, `foreign`, `all`, or `transition` while not stable
    /// (Heartbeat's `hb_rsc_resource_state`; legacy mode reports `none`).
    pub rsc_hold: &'static str,
    /// Heartbeat's resource state: INIT, STARTING, BOTHSTARTING, RSCRCVD,
    /// STABLE, SHUTDOWN.
    pub state: &'static str,
    /// Standby protocol phase: NOT, ME, OTHER, DONE.
    pub standby: &'static str,
    /// The job the runner is executing, if any.
    pub current_job: Option<ResourceJob>,
    /// Steps waiting behind it.
    pub queued_jobs: usize,
    /// Groups we started (or are starting) and have not released, in
    /// haresources order.
    pub owned_keys: Vec<String>,
}

/// Cheap handle to the latest [`ResourceStatus`]; clone it freely.
#[derive(Clone, Debug, Default)]
pub struct ResourceView(Rc<RefCell<ResourceStatus>>);

impl ResourceView {
    pub fn status(&self) -> ResourceStatus {
        self.0.borrow().clone()
    }

    pub fn rsc_hold(&self) -> &'static str {
        self.0.borrow().rsc_hold
    }

    pub(super) fn publish(&self, status: ResourceStatus) {
        *self.0.borrow_mut() = status;
    }
}
