//! Randomness from the operating system, for keys, nonces and tokens.

use base64::Engine;

/// `N` bytes from the OS CSPRNG. Failure here means the OS cannot give randomness at all; nothing
/// secret can be made safely then, so it is fatal.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).expect("the operating system's random source failed");
    out
}

/// A 256-bit token in URL-safe base64 without padding (43 characters).
pub fn token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}

/// An RNG for crates that take a `rand_core` 0.10 `CryptoRng` (ssh-key).
pub fn rng() -> impl rand_core_compat::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// The `rand_core` version getrandom (and ssh-key) speak.
pub mod rand_core_compat {
    pub use getrandom::rand_core::CryptoRng;
}
