//! Prints a digest of std's character classes that `onboarding-core` relies on
//! (`is_alphabetic`, `is_numeric`, `is_whitespace`, `is_control`) over every `char`.
//! `tools/build-pkg.sh` compiles it with the stable toolchain (the server's std) and with the
//! pinned nightly (the npm package's std, built from source) and refuses to build the package
//! when the two differ: both sides must classify every character the same way.
//!
//! With an argument it prints what `tools/gen_reference_data.py` needs from std instead:
//! `version` (std's Unicode version, e.g. `17.0.0`, which the generated tables must follow) or
//! `lowercase` (every char whose lowercase is one other char, as `code delta` in decimal).

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("version") => {
            let (major, minor, update) = char::UNICODE_VERSION;
            println!("{major}.{minor}.{update}");
            return;
        }
        Some("lowercase") => {
            for c in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
                let mut lower = c.to_lowercase();
                if let (Some(l), None) = (lower.next(), lower.next()) {
                    if l != c {
                        println!("{} {}", u32::from(c), i64::from(u32::from(l)) - i64::from(u32::from(c)));
                    }
                }
            }
            return;
        }
        _ => {}
    }
    // FNV-1a over (char, class bits) for every char whose class is not all-false.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut count = 0u32;
    for c in (0..=0x10_FFFFu32).filter_map(char::from_u32) {
        let bits = u8::from(c.is_alphabetic())
            | u8::from(c.is_numeric()) << 1
            | u8::from(c.is_whitespace()) << 2
            | u8::from(c.is_control()) << 3;
        if bits != 0 {
            count += 1;
            for byte in u32::from(c).to_le_bytes().into_iter().chain([bits]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    println!("unicode {:?}: {count} classified chars, digest {hash:016x}", char::UNICODE_VERSION);
}
