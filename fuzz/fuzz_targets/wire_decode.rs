//! Fuzzes the wire decoder: arbitrary bytes must give a packet or a typed
//! error, never a panic, and decoded messages must re-encode consistently.
#![no_main]

use std::sync::OnceLock;

use heartbeat_rs::wire::{
    decode, decode_unverified, encode_classic, encode_netstring, parse_classic, parse_netstring,
    AuthMethod, Keyring, WireFormat, MAXMSG,
};
use libfuzzer_sys::fuzz_target;

fn keys() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| Keyring::single(1, AuthMethod::Sha1, b"labsecret"))
}

fuzz_target!(|data: &[u8]| {
    let unverified = decode_unverified(data);
    // Authentication only ever removes packets.
    if let Ok(packet) = decode(data, keys()) {
        assert_eq!(Ok(&packet), unverified.as_ref());
    }
    let Ok(packet) = unverified else {
        return;
    };
    match packet.format {
        WireFormat::Netstring => {
            // Our own encoding of what we decoded decodes to the same message.
            let again = encode_netstring(&packet.msg, keys());
            if again.len() > MAXMSG {
                return;
            }
            assert_eq!(decode(&again, keys()).map(|p| p.msg), Ok(packet.msg));
        }
        WireFormat::Classic => {
            // A type-0 name starting with "(d)" cannot be written without a
            // prefix (Heartbeat has the same ambiguity); skip those.
            let ambiguous = packet
                .msg
                .fields
                .iter()
                .any(|f| f.ftype == 0 && f.name.starts_with('('));
            if !ambiguous {
                let again = encode_classic(&packet.msg);
                assert_eq!(parse_classic(&again), Ok(packet.msg));
            }
        }
    }
    let _ = parse_netstring(data);
});
