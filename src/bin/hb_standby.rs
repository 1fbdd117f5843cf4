//! `hb_standby [all|foreign|local|failback]`: see `heartbeat_rs::control::standby`.

fn main() {
    std::process::exit(heartbeat_rs::control::standby::main(
        heartbeat_rs::control::standby::Script::Standby,
    ));
}
