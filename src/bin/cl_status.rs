fn main() {
    eprintln!("cl_status: not implemented yet");
    std::process::exit(1);
}
