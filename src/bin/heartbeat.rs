//! heartbeat-rs daemon entry point. For now only `--check` (see
//! `heartbeat_rs::config::check`); the daemon CLI comes later.

use heartbeat_rs::config::check::{self, CheckOptions, EXIT_USAGE};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--check") {
        match CheckOptions::from_args(args) {
            Ok(options) => {
                let report = check::run(&options);
                print!("{}", report.stdout);
                std::process::exit(report.exit_code);
            }
            Err(message) => {
                eprintln!("{message}");
                std::process::exit(EXIT_USAGE);
            }
        }
    }
    eprintln!("heartbeat: not implemented yet (only --check is available)");
    std::process::exit(1);
}
