fn main() {
    eprintln!("hb_takeover: not implemented yet");
    std::process::exit(1);
}
