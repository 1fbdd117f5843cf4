//! Reading a configuration directory: the three files plus nodeinfo, the
//! cross-file checks and the start-up checks that need the system
//! (authkeys permissions, respawn users and programs).

use std::path::{Path, PathBuf};

use super::diag::{Diagnostic, Diagnostics};
use super::model::{HaCf, ResourceGroup};
use super::{authkeys, hacf, haresources, nodeinfo};
use crate::wire::auth::Keyring;

/// Heartbeat's configuration directory.
pub const DEFAULT_CONFDIR: &str = "/etc/ha.d";

#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Check as this node instead of nodeinfo / `uname -n` (lower-cased).
    pub node: Option<String>,
}

/// A configuration Heartbeat would start with.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    pub confdir: PathBuf,
    pub hacf: HaCf,
    pub keys: Keyring,
    pub groups: Vec<ResourceGroup>,
    /// Lower-cased local node name (nodeinfo, `uname -n` or the override).
    pub local_node: String,
    pub warnings: Diagnostics,
}

/// Load `confdir` as Heartbeat does at start-up. `Err` holds every problem
/// (errors and warnings, in file order); `Ok` holds the warnings.
pub fn load(confdir: &Path) -> Result<LoadedConfig, Diagnostics> {
    load_with(confdir, &LoadOptions::default())
}

pub fn load_with(confdir: &Path, options: &LoadOptions) -> Result<LoadedConfig, Diagnostics> {
    let mut diags = Diagnostics::new();

    let local_node = match &options.node {
        Some(name) => name.to_ascii_lowercase(),
        None => {
            let parsed = nodeinfo::read_local_node(confdir);
            diags.extend(parsed.diagnostics);
            parsed.value
        }
    };

    let hacf_path = confdir.join("ha.cf");
    let hacf = match std::fs::read(&hacf_path) {
        Ok(content) => {
            let parsed = hacf::parse(&content, &hacf_path);
            diags.extend(parsed.diagnostics);
            Some(parsed.value)
        }
        Err(e) => {
            diags.push(missing(
                &hacf_path,
                &e,
                "create it: copy the commented sample etc/ha.d/ha.cf and edit the node and bcast lines",
            ));
            None
        }
    };

    if let Some(cf) = &hacf {
        check_local_node(
            cf,
            &local_node,
            options.node.is_some(),
            &hacf_path,
            &mut diags,
        );
        check_clients(cf, &mut diags);
        super::stonith::check(cf, &local_node, &hacf_path, &mut diags);
    }

    let keys_parsed = authkeys::read(&confdir.join("authkeys"));
    diags.extend(keys_parsed.diagnostics);

    let hr_path = confdir.join("haresources");
    let groups = match std::fs::read(&hr_path) {
        Ok(content) => {
            let (nodes, pings) = hacf.as_ref().map_or((Vec::new(), Vec::new()), names);
            let parsed = haresources::parse(&content, &hr_path, &nodes, &pings);
            diags.extend(parsed.diagnostics);
            if parsed.value.is_empty() {
                diags.push(Diagnostic::warning(
                    &hr_path,
                    None,
                    "no resource groups defined: heartbeat will only track membership",
                    "add a line such as 'alpha 192.0.2.10 apache' (see the examples in the file)",
                ));
            }
            parsed.value
        }
        Err(e) => {
            diags.push(missing(
                &hr_path,
                &e,
                "create it (it may contain only comments): copy the sample etc/ha.d/haresources",
            ));
            Vec::new()
        }
    };

    match (hacf, keys_parsed.value) {
        (Some(hacf), Some(keys)) if !diags.has_errors() => Ok(LoadedConfig {
            confdir: confdir.to_path_buf(),
            hacf,
            keys,
            groups,
            local_node,
            warnings: diags,
        }),
        _ => Err(diags),
    }
}

fn missing(path: &Path, e: &std::io::Error, fix: &str) -> Diagnostic {
    let what = match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_string(),
        _ => format!("cannot read: {e}"),
    };
    Diagnostic::error(path, None, what, fix)
}

/// Normal node names and ping node names (all lower-case).
fn names(cf: &HaCf) -> (Vec<String>, Vec<String>) {
    let pings = cf
        .ping_hosts
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .chain(cf.ping_groups.iter().map(|(n, _)| n.clone()))
        .collect();
    (cf.nodes.clone(), pings)
}

fn check_local_node(
    cf: &HaCf,
    local: &str,
    overridden: bool,
    path: &Path,
    diags: &mut Diagnostics,
) {
    if cf.nodes.is_empty() || cf.nodes.iter().any(|n| n == local) {
        return;
    }
    let source = if overridden {
        "given with --node"
    } else {
        "from nodeinfo or uname -n"
    };
    let shown = if local.chars().all(|c| c.is_ascii_graphic()) && !local.is_empty() {
        format!("'{local}'")
    } else {
        format!("{local:?} (note the blanks/control characters)")
    };
    diags.push(Diagnostic::error(
        path,
        None,
        format!("local node {shown} ({source}) is not in the configuration"),
        format!(
            "add it to the node line, or write this node's name into {}",
            path.with_file_name("nodeinfo").display()
        ),
    ));
}

/// `respawn`/`failfast`: the user must exist and the program be executable.
fn check_clients(cf: &HaCf, diags: &mut Diagnostics) {
    for client in &cf.respawn {
        let at = Some(client.origin.line);
        let file = &client.origin.file;
        if !matches!(nix::unistd::User::from_name(&client.user), Ok(Some(_))) {
            diags.push(Diagnostic::error(
                file,
                at,
                format!("invalid uid [{}] specified for client child", client.user),
                "use an existing user name (e.g. hacluster or root)",
            ));
        }
        let program = client.command.split_whitespace().next().unwrap_or_default();
        if nix::unistd::access(program, nix::unistd::AccessFlags::X_OK).is_err() {
            diags.push(Diagnostic::error(
                file,
                at,
                format!("client child command [{program}] is not executable"),
                "install the program or fix the path (it must be an executable file)",
            ));
        }
    }
}
