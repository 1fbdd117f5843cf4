fn main() {
    eprintln!("hb_standby: not implemented yet");
    std::process::exit(1);
}
