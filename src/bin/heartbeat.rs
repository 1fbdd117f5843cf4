//! `heartbeat`: the daemon and its one-shot operations (spec §12.1).
use heartbeat_rs::config::check::{self, CheckOptions};
use heartbeat_rs::daemon::cli::{self, Mode};
use heartbeat_rs::daemon::{admin, startup};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match cli::parse(&args) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("{e}");
            eprint!("{}", cli::usage("heartbeat"));
            std::process::exit(cli::USAGE_EXIT);
        }
    };
    let code = match cli.mode() {
        Mode::Version => {
            println!("{}", heartbeat_rs::HB_VERSION);
            0
        }
        Mode::Help => {
            print!("{}", cli::usage("heartbeat"));
            0
        }
        Mode::PrintDefaults => admin::print_defaults(),
        Mode::Status => admin::status(&cli),
        Mode::Kill => admin::stop(&cli),
        Mode::Reload => admin::reload(&cli),
        Mode::Check => {
            let report = check::run(&CheckOptions {
                confdir: cli.conf_dir.clone(),
                node: cli.node.clone(),
            });
            print!("{}", report.stdout);
            report.exit_code
        }
        Mode::Run => startup::run(&cli),
    };
    std::process::exit(code);
}
