//! API client authorization (`apiauth` in ha.cf, heartbeat/config.c and
//! hb_api.c): who may sign on as which client.
//!
//! A sign-on carries `uid`/`gid`, which must equal the socket peer's
//! credentials (SO_PEERCRED). Then the client's rule must accept it: a
//! casual client (client id = its pid) uses the `anon` rule, a named client
//! its own rule or else `default`. A rule accepts a peer whose uid is in its
//! uid list or whose (primary) gid is in its gid list.

use crate::config::model::ApiAuth;

/// Rules Heartbeat adds for well-known clients unless ha.cf names them.
const DEFAULT_RULES: &[(&str, &[&str], &[&str])] = &[
    ("ipfail", &["hacluster"], &[]),
    ("ccm", &["hacluster"], &[]),
    ("ping", &[], &["haclient"]),
    ("lha-snmpagent", &["root"], &[]),
    ("anon", &["root"], &["haclient"]),
];

/// One resolved rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthRule {
    pub client: String,
    pub uids: Vec<u32>,
    pub gids: Vec<u32>,
}

impl AuthRule {
    fn accepts(&self, uid: u32, gid: u32) -> bool {
        self.uids.contains(&uid) || self.gids.contains(&gid)
    }
}

/// The whole `apiauth` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiAuthz {
    rules: Vec<AuthRule>,
}

/// Why a sign-on is refused; the text is Heartbeat's `removereason`, sent
/// back in the reply's `info` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadPid,
    DuplicateClient,
    InvalidIds,
    FalseCredentials,
    AnonMissing,
    NoDefaultRule,
    NotAuthorized,
    PidMismatch,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::BadPid => "bad pid",
            Refusal::DuplicateClient => "duplicate add request",
            Refusal::InvalidIds => "invalid id info",
            Refusal::FalseCredentials => "incorrect/false credentials",
            Refusal::AnonMissing => "apiauth anon missing",
            Refusal::NoDefaultRule => "no default client auth",
            Refusal::NotAuthorized => "client failed authorization",
            Refusal::PidMismatch => "pid mismatch",
        }
    }
}

impl ApiAuthz {
    /// Rules as given, without Heartbeat's defaults.
    pub fn from_rules(rules: Vec<AuthRule>) -> ApiAuthz {
        ApiAuthz { rules }
    }

    /// Resolves ha.cf `apiauth` lines plus Heartbeat's default rules with
    /// `lookup` (name -> uid for users, gid for groups; numbers are taken
    /// as they are). Unknown names are returned as errors and skipped.
    pub fn from_config(
        lines: &[ApiAuth],
        lookup_user: impl Fn(&str) -> Option<u32>,
        lookup_group: impl Fn(&str) -> Option<u32>,
    ) -> (ApiAuthz, Vec<String>) {
        let mut errors = Vec::new();
        let mut rules: Vec<AuthRule> = Vec::new();
        let mut resolve = |names: &[String], user: bool, client: &str| -> Vec<u32> {
            let mut ids = Vec::new();
            for name in names
                .iter()
                .flat_map(|n| n.split(','))
                .filter(|n| !n.is_empty())
            {
                let id = name.parse().ok().or_else(|| {
                    if user {
                        lookup_user(name)
                    } else {
                        lookup_group(name)
                    }
                });
                match id {
                    Some(id) => ids.push(id),
                    None => errors.push(format!(
                        "apiauth {client}: unknown {} {name}",
                        if user { "user" } else { "group" }
                    )),
                }
            }
            ids
        };
        for line in lines {
            if rules.iter().any(|r| r.client == line.client) {
                continue;
            }
            let uids = resolve(&line.uids, true, &line.client);
            let gids = resolve(&line.gids, false, &line.client);
            rules.push(AuthRule {
                client: line.client.clone(),
                uids,
                gids,
            });
        }
        for (client, users, groups) in DEFAULT_RULES {
            if rules.iter().any(|r| r.client == *client) {
                continue;
            }
            let users: Vec<String> = users.iter().map(|s| s.to_string()).collect();
            let groups: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
            let uids = resolve(&users, true, client);
            let gids = resolve(&groups, false, client);
            rules.push(AuthRule {
                client: client.to_string(),
                uids,
                gids,
            });
        }
        (ApiAuthz { rules }, errors)
    }

    fn rule(&self, client: &str) -> Option<&AuthRule> {
        self.rules.iter().find(|r| r.client == client)
    }

    /// Checks a sign-on: the claimed ids against the peer's credentials,
    /// then the rule for the client. `peer_pid` is the socket peer's pid.
    pub fn check(
        &self,
        client_id: &str,
        casual: bool,
        claimed: (u32, u32),
        peer: (u32, u32),
        claimed_pid: i32,
        peer_pid: i32,
    ) -> Result<(), Refusal> {
        if claimed.0 != peer.0 || claimed.1 != peer.1 {
            return Err(Refusal::FalseCredentials);
        }
        let rule = if casual {
            self.rule("anon").ok_or(Refusal::AnonMissing)?
        } else {
            match self.rule(client_id) {
                Some(rule) => rule,
                None => self.rule("default").ok_or(Refusal::NoDefaultRule)?,
            }
        };
        if !rule.accepts(peer.0, peer.1) {
            return Err(Refusal::NotAuthorized);
        }
        if peer_pid > 0 && peer_pid != claimed_pid {
            return Err(Refusal::PidMismatch);
        }
        Ok(())
    }
}

/// Looks a user up in the system database (getpwnam).
pub fn system_user(name: &str) -> Option<u32> {
    nix::unistd::User::from_name(name)
        .ok()
        .flatten()
        .map(|u| u.uid.as_raw())
}

/// Looks a group up in the system database (getgrnam).
pub fn system_group(name: &str) -> Option<u32> {
    nix::unistd::Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(name: &str) -> Option<u32> {
        match name {
            "root" => Some(0),
            "hacluster" => Some(103),
            _ => None,
        }
    }

    fn groups(name: &str) -> Option<u32> {
        (name == "haclient").then_some(106)
    }

    #[test]
    fn defaults_and_overrides() {
        let lines = vec![ApiAuth {
            client: "ipfail".into(),
            uids: vec!["root".into()],
            gids: vec![],
        }];
        let (authz, errors) = ApiAuthz::from_config(&lines, users, groups);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(authz.rule("ipfail").map(|r| r.uids.clone()), Some(vec![0]));
        let anon = authz.rule("anon").cloned();
        assert_eq!(
            anon,
            Some(AuthRule {
                client: "anon".into(),
                uids: vec![0],
                gids: vec![106]
            })
        );
    }

    #[test]
    fn unknown_names_are_reported() {
        let lines = vec![ApiAuth {
            client: "x".into(),
            uids: vec!["nobody-here".into(), "7".into()],
            gids: vec![],
        }];
        let (authz, errors) = ApiAuthz::from_config(&lines, users, groups);
        assert_eq!(
            errors,
            vec!["apiauth x: unknown user nobody-here".to_string()]
        );
        assert_eq!(authz.rule("x").map(|r| r.uids.clone()), Some(vec![7]));
    }

    #[test]
    fn casual_clients_use_anon() {
        let (authz, _) = ApiAuthz::from_config(&[], users, groups);
        let ok = |claimed, peer| authz.check("42", true, claimed, peer, 42, 42);
        assert_eq!(ok((0, 0), (0, 0)), Ok(()));
        assert_eq!(ok((65534, 106), (65534, 106)), Ok(()));
        assert_eq!(
            ok((65534, 65534), (65534, 65534)),
            Err(Refusal::NotAuthorized)
        );
        assert_eq!(ok((0, 0), (65534, 65534)), Err(Refusal::FalseCredentials));
        assert_eq!(
            authz.check("42", true, (0, 0), (0, 0), 42, 43),
            Err(Refusal::PidMismatch)
        );
        assert_eq!(
            authz.check("mystery", false, (0, 0), (0, 0), 42, 42),
            Err(Refusal::NoDefaultRule)
        );
        let empty = ApiAuthz::default();
        assert_eq!(
            empty.check("42", true, (0, 0), (0, 0), 42, 42),
            Err(Refusal::AnonMissing)
        );
    }
}
