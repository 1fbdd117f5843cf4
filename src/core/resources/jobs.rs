//! The resource job queue: Heartbeat runs one resource child at a time and
//! queues the rest; each job carries what must happen when it ends (the
//! rest of the script that ran it).

use std::collections::VecDeque;

use crate::core::{JobId, ResourceJob};

/// What to do once a job (or a job-less step queued behind jobs) is done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum After {
    /// `mach_down NODE` finished taking the dead node's groups.
    MachDown(String),
    /// `go_standby`'s child finished: announce `ask_resources … info=done`
    /// with `announce` (the standby set when it was started).
    StandbyDone {
        acquire: bool,
        set: super::Holdings,
        announce: super::Holdings,
    },
    /// `rc.d/ip-request` finished: answer the requester.
    IpRequestReply {
        to: String,
        key: String,
        weown: bool,
    },
    /// `rc.d/ip-request-resp` took a granted group.
    Granted,
    /// `hb_giveup_resources` released everything: send `shutdone`.
    GaveUpAll,
    /// Groups both nodes held were released here (fencing.rs).
    ReleasedDuplicates,
}

/// One queued step: an optional job, then its continuation.
#[derive(Clone, Debug)]
pub(super) struct Work {
    pub job: Option<ResourceJob>,
    pub then: After,
}

#[derive(Clone, Debug)]
pub(super) struct Running {
    pub id: JobId,
    pub job: ResourceJob,
    pub then: After,
}

#[derive(Debug, Default)]
pub(super) struct JobQueue {
    queue: VecDeque<Work>,
    running: Option<Running>,
    last_id: JobId,
}

impl JobQueue {
    pub(super) fn push(&mut self, work: Work) {
        self.queue.push_back(work);
    }

    /// Nothing running and nothing waiting (Heartbeat's child count is 0).
    pub(super) fn idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    pub(super) fn running(&self) -> Option<&Running> {
        self.running.as_ref()
    }

    pub(super) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The next step if nothing runs. A step with a non-empty job becomes
    /// the running one and gets an id; a job-less step is returned to be
    /// completed at once.
    pub(super) fn next(&mut self) -> Option<Step> {
        if self.running.is_some() {
            return None;
        }
        let work = self.queue.pop_front()?;
        match work.job {
            Some(job) if !job_keys(&job).is_empty() => {
                self.last_id += 1;
                let id = self.last_id;
                self.running = Some(Running {
                    id,
                    job: job.clone(),
                    then: work.then,
                });
                Some(Step::Start { id, job })
            }
            _ => Some(Step::Immediate(work.then)),
        }
    }

    /// The running job if `id` is it.
    pub(super) fn finish(&mut self, id: JobId) -> Option<Running> {
        if self.running.as_ref().is_some_and(|r| r.id == id) {
            self.running.take()
        } else {
            None
        }
    }
}

pub(super) enum Step {
    Start { id: JobId, job: ResourceJob },
    Immediate(After),
}

pub(super) fn job_keys(job: &ResourceJob) -> &[String] {
    match job {
        ResourceJob::Take { keys } | ResourceJob::Give { keys } => keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(keys: &[&str]) -> Option<ResourceJob> {
        Some(ResourceJob::Take {
            keys: keys.iter().map(|k| k.to_string()).collect(),
        })
    }

    #[test]
    fn one_job_at_a_time_in_order_and_empty_steps_pass_through() {
        let mut q = JobQueue::default();
        q.push(Work {
            job: take(&["a"]),
            then: After::Granted,
        });
        q.push(Work {
            job: take(&[]),
            then: After::GaveUpAll,
        });
        let Some(Step::Start { id, .. }) = q.next() else {
            panic!("first job must start");
        };
        assert!(q.next().is_none(), "second waits for the first");
        assert!(q.finish(id + 7).is_none());
        assert_eq!(q.finish(id).map(|r| r.then), Some(After::Granted));
        assert!(matches!(q.next(), Some(Step::Immediate(After::GaveUpAll))));
        assert!(q.idle());
    }
}
