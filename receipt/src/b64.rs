//! Base64url without padding (RFC 4648 §5, as RFC 7515 uses it).
//!
//! Written by hand rather than pulled from a crate because the widget compiles this crate
//! to WebAssembly, where every dependency costs bytes. The decoder is strict: padding,
//! characters outside the URL-safe alphabet and non-zero trailing bits are all refused,
//! so that one value has exactly one encoding (a signed token cannot be re-encoded into
//! a second, different-looking but equivalent string). It is tested against the `base64`
//! crate.

use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Why a string is not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A byte outside `A–Z a–z 0–9 - _` (this includes `=` padding).
    #[error("invalid base64url character at offset {0}")]
    InvalidByte(usize),
    /// A length of 4n+1 characters cannot come from any input.
    #[error("invalid base64url length")]
    InvalidLength,
    /// The last character carries bits that an encoder would have left at zero.
    #[error("non-canonical base64url trailing bits")]
    TrailingBits,
}

/// Encodes bytes as base64url without padding.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    let mut chunks = input.chunks_exact(3);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        for shift in [18, 12, 6, 0] {
            out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
        }
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            out.push(char::from(ALPHABET[((n >> 18) & 63) as usize]));
            out.push(char::from(ALPHABET[((n >> 12) & 63) as usize]));
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            out.push(char::from(ALPHABET[((n >> 18) & 63) as usize]));
            out.push(char::from(ALPHABET[((n >> 12) & 63) as usize]));
            out.push(char::from(ALPHABET[((n >> 6) & 63) as usize]));
        }
        _ => {}
    }
    out
}

fn value(byte: u8, at: usize) -> Result<u32, DecodeError> {
    let v = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return Err(DecodeError::InvalidByte(at)),
    };
    Ok(u32::from(v))
}

/// Decodes canonical unpadded base64url.
pub fn decode(input: &str) -> Result<Vec<u8>, DecodeError> {
    let bytes = input.as_bytes();
    if bytes.len() % 4 == 1 {
        return Err(DecodeError::InvalidLength);
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3 + 2);
    let mut chunks = bytes.chunks(4).enumerate().peekable();
    while let Some((i, chunk)) = chunks.next() {
        let base = i * 4;
        let mut n = 0u32;
        for (j, &b) in chunk.iter().enumerate() {
            n |= value(b, base + j)? << (18 - 6 * j);
        }
        match chunk.len() {
            4 => out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]),
            3 => {
                if n & 0xff != 0 {
                    return Err(DecodeError::TrailingBits);
                }
                out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]);
            }
            2 => {
                if n & 0xffff != 0 {
                    return Err(DecodeError::TrailingBits);
                }
                out.push((n >> 16) as u8);
            }
            _ => return Err(DecodeError::InvalidLength),
        }
        debug_assert!(chunk.len() == 4 || chunks.peek().is_none());
    }
    Ok(out)
}

/// Decodes into a fixed-size array, refusing any other length.
pub fn decode_array<const N: usize>(input: &str) -> Option<[u8; N]> {
    decode(input).ok()?.try_into().ok()
}

/// Encodes bytes as standard base64 with padding (RFC 4648 §4), the form C2SP signed
/// notes and checkpoints use.
pub fn encode_std(input: &[u8]) -> String {
    let mut out: String = encode(input)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while out.len() % 4 != 0 {
        out.push('=');
    }
    out
}

/// Decodes standard padded base64, as strictly as [`decode`]: the padding an encoder
/// writes, no URL-safe characters, no stray trailing bits.
pub fn decode_std(input: &str) -> Result<Vec<u8>, DecodeError> {
    if input.len() % 4 != 0 {
        return Err(DecodeError::InvalidLength);
    }
    let body = input.trim_end_matches('=');
    if input.len() - body.len() > 2 {
        return Err(DecodeError::InvalidByte(body.len()));
    }
    if let Some(at) = body.find(['-', '_', '=']) {
        return Err(DecodeError::InvalidByte(at));
    }
    let url: String = body
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    decode(&url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoding_matches_the_base64_crate(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(encode(&data), URL_SAFE_NO_PAD.encode(&data));
        }

        #[test]
        fn standard_encoding_matches_the_base64_crate(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(encode_std(&data), STANDARD.encode(&data));
        }

        #[test]
        fn standard_decoding_accepts_exactly_what_the_base64_crate_accepts(s in "[A-Za-z0-9_=+/-]{0,12}") {
            prop_assert_eq!(decode_std(&s).ok(), STANDARD.decode(&s).ok());
        }

        #[test]
        fn decoding_round_trips(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(decode(&encode(&data)).unwrap(), data);
        }

        #[test]
        fn decoding_accepts_exactly_what_the_base64_crate_accepts(s in "[A-Za-z0-9_=+/-]{0,12}") {
            // The base64 crate's URL_SAFE_NO_PAD engine is also strict about padding
            // and trailing bits, so the two must agree on every input.
            prop_assert_eq!(decode(&s).ok(), URL_SAFE_NO_PAD.decode(&s).ok());
        }
    }

    #[test]
    fn padding_is_refused() {
        assert_eq!(decode("AA=="), Err(DecodeError::InvalidByte(2)));
    }

    #[test]
    fn standard_alphabet_is_refused() {
        assert!(decode("a+b/").is_err());
    }

    #[test]
    fn non_canonical_trailing_bits_are_refused() {
        // "AB" decodes to 0x00 with 4 stray bits set.
        assert_eq!(decode("AB"), Err(DecodeError::TrailingBits));
        assert_eq!(decode("AA").unwrap(), [0]);
    }
}
