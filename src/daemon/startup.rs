//! `heartbeat` start-up in Heartbeat's order: config, pid file, detach,
//! state files, media, scheduling, then the poll loop.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config;
use crate::core::resources::{ResourceManager, ResourceOptions};
use crate::core::{Core, CoreParams, Level};
use crate::daemon::cli::Cli;
use crate::daemon::clock::Clock;
use crate::daemon::control_io::ControlIo;
use crate::daemon::event_loop::{EventLoop, Reloader};
use crate::daemon::event_scripts::EventScripts;
use crate::daemon::ping_io::PingIo;
use crate::daemon::upper::DaemonUpper;
use crate::daemon::watchdog::Watchdog;
use crate::daemon::{pidfile, process, statefiles};
use crate::log::{LogConfig, Logger};
use crate::media::{self, OpenOptions};
use crate::runner::stonith::{StonithRunner, DEFAULT_FENCE_TIMEOUT};
use crate::runner::{Runner, RunnerConfig};
use crate::wire::Keyring;

/// LSB "program is not configured".
pub const EXIT_NOT_CONFIGURED: i32 = 6;
/// LSB generic failure.
pub const EXIT_FAILURE: i32 = 1;

/// Starts the daemon; returns the process exit code.
pub fn run(cli: &Cli) -> i32 {
    let host = config::nodeinfo::uname_nodename();
    let mut logger = Logger::new(LogConfig::bootstrap(&host));
    let options = config::LoadOptions {
        node: cli.node.clone(),
    };
    let loaded = match config::load_with(&cli.conf_dir, &options) {
        Ok(loaded) => loaded,
        Err(diags) => {
            for d in diags.iter() {
                logger.log(Level::Error, &d.to_string());
            }
            logger.log(Level::Error, "Configuration error, heartbeat not started.");
            return EXIT_NOT_CONFIGURED;
        }
    };
    for w in loaded.warnings.iter() {
        logger.log(Level::Warn, &w.to_string());
    }
    let hacf = &loaded.hacf;
    match LogConfig::from_hacf(hacf, &host) {
        Ok(mut cfg) => {
            cfg.debug_level = cfg.debug_level.saturating_add(cli.debug);
            logger.reconfigure(cfg);
        }
        Err(e) => {
            logger.log(Level::Error, &format!("ha.cf: logfacility: {e}"));
            return EXIT_NOT_CONFIGURED;
        }
    }

    let pid_path = cli.pid_file();
    let running = pidfile::status(&pid_path, true).running_pid();
    // After a restart exec the pid file holds our own pid.
    if let Some(pid) = running.filter(|pid| *pid != std::process::id() as i32) {
        logger.log(
            Level::Error,
            &format!("heartbeat: already running [pid {pid}]."),
        );
        return 0;
    }

    let clock = Clock::new();
    let now_secs = clock.now().wall_secs;
    if let Err(e) = std::fs::create_dir_all(&cli.state_dir) {
        logger.log(
            Level::Error,
            &format!("cannot create {}: {e}", cli.state_dir.display()),
        );
        return EXIT_FAILURE;
    }
    // Open every medium once before detaching so a missing interface or
    // device is reported on the console too; they are re-opened afterwards
    // because the serial lock files record the daemon's pid.
    let media_opts = OpenOptions {
        lock_dir: Some(cli.lock_dir.clone()),
    };
    if let Err(e) = media::open_all(&hacf.media, &media_opts) {
        logger.log(Level::Error, &e.located());
        logger.log(Level::Error, "Configuration error, heartbeat not started.");
        return EXIT_NOT_CONFIGURED;
    }
    let ping_nodes = media::ping::ping_node_params(hacf);
    if let Err(e) = media::ping::resolve(&ping_nodes) {
        logger.log(Level::Error, &e.to_string());
        logger.log(Level::Error, "Configuration error, heartbeat not started.");
        return EXIT_NOT_CONFIGURED;
    }

    if let Err(e) = process::detach(cli.foreground) {
        logger.log(Level::Error, &format!("cannot daemonise: {e}"));
        return EXIT_FAILURE;
    }
    logger.set_stderr(false);
    if let Err(e) = pidfile::lock(&pid_path) {
        logger.log(Level::Error, &e.to_string());
        return EXIT_FAILURE;
    }
    let media = match media::open_all(&hacf.media, &media_opts) {
        Ok(media) => media,
        Err(e) => {
            logger.log(Level::Error, &e.located());
            return EXIT_NOT_CONFIGURED;
        }
    };
    let ping = match open_ping(&ping_nodes) {
        Ok(p) => p,
        Err(e) => {
            logger.log(Level::Error, &e.to_string());
            return EXIT_NOT_CONFIGURED;
        }
    };
    logger.log(
        Level::Info,
        &format!(
            "Configuration validated. Starting heartbeat {}",
            crate::HB_VERSION
        ),
    );
    let generation = match statefiles::next_generation(&cli.state_dir, hacf.hbgenmethod, now_secs) {
        Ok(g) => g,
        Err(e) => {
            logger.log(Level::Error, &e.to_string());
            return EXIT_FAILURE;
        }
    };
    for (level, text) in &generation.notes {
        logger.log(*level, text);
    }
    let uuid = match statefiles::load_or_create_uuid(&cli.state_dir) {
        Ok(u) => u,
        Err(e) => {
            logger.log(Level::Error, &e.to_string());
            return EXIT_FAILURE;
        }
    };
    for (level, text) in &uuid.notes {
        logger.log(*level, text);
    }
    for medium in &media {
        for line in medium.opened_log() {
            logger.log(Level::Info, line);
        }
    }
    for line in ping.iter().flat_map(|p| p.opened_log()) {
        logger.log(Level::Info, &line);
    }
    if hacf.realtime && !cli.no_realtime {
        for (level, text) in process::make_realtime(None, hacf.memreserve_kib) {
            logger.log(level, &text);
        }
    }

    let params = CoreParams {
        local_node: loaded.local_node.clone(),
        nodes: hacf.nodes.clone(),
        link_names: media.iter().map(|m| m.name().to_string()).collect(),
        keepalive_ms: hacf.keepalive_ms,
        deadtime_ms: hacf.deadtime_ms,
        warntime_ms: hacf.warntime_ms,
        initdead_ms: hacf.initdead_ms,
        max_rexmit_delay_ms: hacf.max_rexmit_delay_ms,
        hopfudge: hacf.hopfudge,
        generation: generation.value,
        uuid: uuid.uuid,
        flow_control: true,
        rng_seed: rng_seed(),
        known_uuids: Vec::new(),
        ping_nodes,
        deadping_ms: hacf.deadping_ms,
    };
    if let Err(e) = params.validate() {
        logger.log(Level::Error, &format!("Configuration error: {e}"));
        return EXIT_NOT_CONFIGURED;
    }
    let stonith_device = config::stonith::StonithDevice::for_node(hacf, &loaded.local_node);
    let peers: Vec<String> = hacf
        .nodes
        .iter()
        .filter(|n| **n != loaded.local_node)
        .cloned()
        .collect();
    let resources = ResourceManager::new(
        &loaded.local_node,
        &peers,
        &loaded.groups,
        hacf.auto_failback,
        ResourceOptions {
            manage_resources: !cli.no_resources,
            deadtime_ms: hacf.deadtime_ms,
            pid: std::process::id(),
            stonith: stonith_device.is_some(),
            ..ResourceOptions::default()
        },
    );
    let (control, notes) = ControlIo::new(
        cli.state_dir.join("fifo"),
        cli.hb_run_dir().join("register"),
        hacf.clone(),
        resources.view(),
        loaded
            .groups
            .iter()
            .map(|g| (g.key.clone(), g.node.clone()))
            .collect(),
        !cli.no_resources,
    );
    for (level, text) in notes {
        logger.log(level, &text);
    }
    let (runner, script_env) = match resource_runner(cli, &loaded, &mut logger) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let fencer = stonith_device.map(|device| {
        StonithRunner::new(
            device,
            config::stonith::stonith_tool(),
            script_env.clone(),
            DEFAULT_FENCE_TIMEOUT,
        )
    });
    let watchdog = hacf.watchdog.as_ref().and_then(|path| {
        let mut notes = Vec::new();
        let dog = Watchdog::open(path, hacf.deadtime_ms, &mut notes);
        for (level, text) in notes {
            logger.log(level, &text);
        }
        dog
    });
    let clients = respawn_clients(&loaded.hacf, &script_env, &mut logger);
    let event_scripts = EventScripts::new(cli.conf_dir.join("rc.d"), script_env);
    let core = Core::with_upper(
        params,
        Box::new(crate::daemon::loadavg::CachedLoadAvg::new(read_loadavg).into_fn()),
        Box::new(DaemonUpper {
            resources,
            event_types: event_scripts.types().clone(),
        }),
    );
    let reloader = AuthkeysReloader::new(cli.conf_dir.join("authkeys"));
    let mut event_loop = match EventLoop::new(
        media,
        core,
        runner,
        control,
        event_scripts,
        loaded.keys.clone(),
        hacf.msgfmt,
        clock,
        logger,
        Box::new(reloader),
    ) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("heartbeat: cannot set up the poll loop: {e}");
            return EXIT_FAILURE;
        }
    };
    if let Err(e) = event_loop.set_clients(clients) {
        event_loop
            .logger
            .log(Level::Error, &format!("cannot watch respawn clients: {e}"));
    }
    if let Some(ping) = ping {
        if let Err(e) = event_loop.set_ping(PingIo::new(ping)) {
            eprintln!("heartbeat: cannot poll the ping socket: {e}");
            return EXIT_FAILURE;
        }
    }
    if let Some(fencer) = fencer {
        if let Err(e) = event_loop.set_stonith(fencer) {
            eprintln!("heartbeat: cannot watch STONITH children: {e}");
            return EXIT_FAILURE;
        }
    }
    if let Some(dog) = watchdog {
        event_loop.set_watchdog(dog);
    }
    match event_loop.run() {
        Ok(code) => code,
        Err(e) => {
            event_loop
                .logger
                .log(Level::Emerg, &format!("poll loop failed: {e}"));
            EXIT_FAILURE
        }
    }
}

/// The script runner, with /run/heartbeat/rsctmp wiped and recreated 01777
/// as Heartbeat does at start-up.
fn resource_runner(
    cli: &Cli,
    loaded: &config::LoadedConfig,
    logger: &mut Logger,
) -> Result<(Runner, Vec<(String, String)>), i32> {
    let (mut cfg, notes) = RunnerConfig::from_hacf(&loaded.hacf, &loaded.local_node);
    for note in notes {
        logger.log(Level::Warn, &note);
    }
    cfg.resource_dir = cli.conf_dir.join("resource.d");
    if let Some(cmd) = &loaded.hacf.self_fence {
        cfg.self_fence = (!cmd.is_empty()).then(|| cmd.clone());
    }
    cfg.env.ha_dir = format!("{}/", cli.conf_dir.display());
    let rsctmp = cli.hb_run_dir().join("rsctmp");
    cfg.env.rsctmp = rsctmp.display().to_string();
    let _ = std::fs::remove_dir_all(&rsctmp);
    let made = std::fs::create_dir_all(&rsctmp).and_then(|()| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&rsctmp, std::fs::Permissions::from_mode(0o1777))
    });
    if let Err(e) = made {
        logger.log(
            Level::Error,
            &format!("cannot create {}: {e}", rsctmp.display()),
        );
        return Err(EXIT_FAILURE);
    }
    let env = cfg.env.vars();
    Ok((Runner::new(cfg, loaded.groups.clone()), env))
}

/// The `respawn`/`failfast` clients, with the scripts' environment and the
/// self-fence command of a failed stop.
fn respawn_clients(
    hacf: &crate::config::model::HaCf,
    env: &[(String, String)],
    logger: &mut Logger,
) -> crate::daemon::respawn::Clients {
    // Heartbeat hands its log files to hacluster so that clients running
    // as that user (ipfail) can log there too.
    if let Some(uid) = crate::control::auth::system_user("hacluster") {
        let gid = crate::control::auth::system_group("haclient");
        for path in [&hacf.logfile, &hacf.debugfile].into_iter().flatten() {
            let _ = nix::unistd::chown(
                path,
                Some(nix::unistd::Uid::from_raw(uid)),
                gid.map(nix::unistd::Gid::from_raw),
            );
        }
    }
    let (specs, groups, errors) = crate::daemon::respawn::resolve(&hacf.respawn);
    for e in errors {
        logger.log(Level::Error, &e);
    }
    let self_fence = match &hacf.self_fence {
        Some(cmd) => (!cmd.is_empty()).then(|| cmd.clone()),
        None => RunnerConfig::default().self_fence,
    };
    // Heartbeat exports every ha.cf directive as HA_<directive>; clients
    // find their log files there (cl_inherit_logging_environment).
    let mut env = env.to_vec();
    for (name, value) in &hacf.raw {
        let key = format!("HA_{name}");
        if !env.iter().any(|(k, _)| *k == key) {
            env.push((key, value.clone()));
        }
    }
    crate::daemon::respawn::Clients::new(specs, groups, env, self_fence)
}

/// `/proc/loadavg` without its newline, `n/a` when unreadable (as Heartbeat).
fn read_loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim_end().to_string())
        .unwrap_or_else(|_| "n/a".to_string())
}

/// Seed for ACK triggers and rexmit jitter: differs per start and node.
fn rng_seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

/// SIGHUP: re-read authkeys when its mtime changed (Heartbeat's rule).
struct AuthkeysReloader {
    path: PathBuf,
    mtime: Option<SystemTime>,
}

impl AuthkeysReloader {
    fn new(path: PathBuf) -> Self {
        let mtime = mtime_of(&path);
        AuthkeysReloader { path, mtime }
    }
}

fn mtime_of(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Reloader for AuthkeysReloader {
    fn reload(&mut self) -> (Option<Keyring>, Vec<(Level, String)>) {
        let mtime = mtime_of(&self.path);
        if mtime == self.mtime {
            return (None, vec![(Level::Info, "Configuration unchanged.".into())]);
        }
        let parsed = config::authkeys::read(&self.path);
        match parsed.value.filter(|_| !parsed.diagnostics.has_errors()) {
            Some(keys) => {
                self.mtime = mtime;
                (
                    Some(keys),
                    vec![(Level::Info, "Authentication keys re-read.".into())],
                )
            }
            None => (
                None,
                parsed
                    .diagnostics
                    .iter()
                    .map(|d| (Level::Error, d.to_string()))
                    .chain(std::iter::once((
                        Level::Error,
                        "Keeping the previous authentication keys.".to_string(),
                    )))
                    .collect(),
            ),
        }
    }
}

/// The ping medium when ping nodes are configured. Its echo id is our pid
/// (Heartbeat: the pid that parsed ha.cf), 16 bits.
fn open_ping(
    nodes: &[crate::core::PingNodeParams],
) -> Result<Option<media::ping::PingMedium>, media::ping::PingError> {
    if nodes.is_empty() {
        return Ok(None);
    }
    let ident = (std::process::id() & 0xffff) as u16;
    media::ping::PingMedium::open(nodes, ident).map(Some)
}
