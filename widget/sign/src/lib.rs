//! # consent-widget-sign
//!
//! The widget signs receipts with the browser's WebCrypto Ed25519 where it has it
//! (Chromium 137+, Firefox 129+, Safari 17+). Elsewhere the loader fetches this module,
//! pinned by its SRI hash, and signs with it: ed25519-dalek, no precomputed tables.
//!
//! The interface needs no JavaScript glue and the module imports nothing: numbers in,
//! numbers out, and one static buffer that the loader reads and writes through the
//! module's exported memory (at [`io`]). The loader puts the 32-byte seed at the buffer's
//! start and the message right after it, then calls [`public_key`] or [`sign`], which
//! write their result over the seed. `cargo xtask dist` checks the module's imports
//! (none) and exports.
//!
//! Ed25519 signatures are deterministic: for the same seed and message this module and
//! WebCrypto give the same 64 bytes (checked in the browser tests).

#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

use ed25519_dalek::{Signer, SigningKey};

/// The longest message this module signs: a receipt is at most 16 KiB.
pub const MAX_MESSAGE: usize = 16 * 1024;

/// The seed, then the message; the result is written over the seed. Atomics only so that a
/// static buffer needs no `unsafe`: the module is single-threaded, and on wasm32 without
/// the atomics feature these are plain loads and stores.
static IO: [AtomicU8; 32 + MAX_MESSAGE] = [const { AtomicU8::new(0) }; 32 + MAX_MESSAGE];

/// The buffer's address in the module's memory.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn io() -> usize {
    IO.as_ptr() as usize
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&core::array::from_fn(|i| IO[i].load(Relaxed)))
}

fn put(bytes: &[u8]) {
    for (cell, b) in IO.iter().zip(bytes) {
        cell.store(*b, Relaxed);
    }
}

/// Writes the public key of the seed in the buffer over it.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn public_key() {
    put(key().verifying_key().as_bytes());
}

/// Signs the `len` bytes after the seed and writes the 64-byte signature over the seed
/// (and the message's first 32 bytes). `false`, with nothing written, for a longer message
/// than [`MAX_MESSAGE`].
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn sign(len: usize) -> bool {
    if len > MAX_MESSAGE {
        return false;
    }
    let mut message = [0u8; MAX_MESSAGE];
    for (b, cell) in message.iter_mut().zip(&IO[32..32 + len]) {
        *b = cell.load(Relaxed);
    }
    let signature = key().sign(message.get(..len).unwrap_or_default()).to_bytes();
    put(&signature);
    true
}

/// No panic message in the module: a panic (there is none to reach) stops it.
#[cfg(all(target_arch = "wasm32", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The tests share the one buffer: one at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn load(seed: &[u8; 32], message: &[u8]) {
        put(seed);
        for (cell, b) in IO[32..].iter().zip(message) {
            cell.store(*b, Relaxed);
        }
    }

    fn out<const N: usize>() -> [u8; N] {
        core::array::from_fn(|i| IO[i].load(Relaxed))
    }

    #[test]
    fn signatures_match_rfc_8032_test_vector_2() {
        let _one = ONE_AT_A_TIME.lock().unwrap();
        // RFC 8032 §7.1, TEST 2: a one-byte message.
        let hex = |s: &str| {
            (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect::<Vec<u8>>()
        };
        let seed: [u8; 32] =
            hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb").try_into().unwrap();
        load(&seed, &[0x72]);
        public_key();
        assert_eq!(out::<32>().to_vec(), hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
        load(&seed, &[0x72]);
        assert!(sign(1));
        let expected = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                        085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
        assert_eq!(out::<64>().to_vec(), hex(expected));
    }

    #[test]
    fn a_receipt_signed_here_is_the_one_the_receipt_crate_signs() {
        let _one = ONE_AT_A_TIME.lock().unwrap();
        let seed = [7u8; 32];
        let claims = consent_receipt::WithdrawalClaims {
            jti: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            iat: 1_763_800_000,
            aud: "https://consent.example.com".into(),
            receipt_jti: "AQEBAQEBAQEBAQEBAQEBAQ".into(),
            purposes: None,
        };
        load(&seed, &[]);
        public_key();
        let input = claims.signing_input(&out::<32>());
        load(&seed, input.as_bytes());
        assert!(sign(input.len()));
        let ours = consent_receipt::jws::with_signature(input, &out::<64>());
        assert_eq!(ours, claims.sign(&SigningKey::from_bytes(&seed)));
        consent_receipt::verify_withdrawal(&ours).unwrap();
    }

    #[test]
    fn a_message_longer_than_the_buffer_is_refused() {
        assert!(!sign(MAX_MESSAGE + 1));
    }
}
