//! The transparency log, checked: RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and
//! consistency proofs, C2SP `tlog-checkpoint` bodies in C2SP signed notes (Ed25519), and
//! C2SP `tlog-proof` texts.
//!
//! Written here rather than taken from `tlog_tiles` and `signed_note` (which the verifier
//! uses to build the tree, its proofs and its tiles): this crate is `no_std` and compiles to
//! WebAssembly for the proof checker page, and those crates need `std`. The tests check
//! these functions against `tlog_tiles`' proofs, and a Python implementation checks the
//! verifier's proofs in the API tests.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::b64;

/// A node or leaf hash.
pub type Hash = [u8; 32];

/// The first line of a C2SP tlog-proof.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The hash of a leaf holding `data` (RFC 6962 §2.1: SHA-256 of 0x00 and the data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an inner node (SHA-256 of 0x01, the left and the right hash).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root an inclusion proof leads to for the leaf `leaf` at `index` in a tree of
/// `size` leaves (RFC 9162 §2.1.3.2), or `None` if the proof does not fit the position.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Whether `proof` shows that the tree of `new_size` leaves with root `new_root` extends
/// the tree of `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2).
pub fn consistent(old_size: u64, old_root: &Hash, new_size: u64, new_root: &Hash, proof: &[Hash]) -> bool {
    if old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    if old_size == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &fr == old_root && &sr == new_root
}

/// A C2SP tlog-checkpoint: the log's origin, its size and its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (`<host>/consent-log`).
    pub origin: String,
    /// Leaves in the tree.
    pub size: u64,
    /// The tree's root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint's text, as signed: origin, size and base64 root, one per line.
    pub fn body(&self) -> String {
        alloc::format!("{}\n{}\n{}\n", self.origin, self.size, b64::encode_std(&self.root))
    }

    /// Reads a checkpoint's text (extension lines after the root are allowed and ignored).
    pub fn parse(text: &str) -> Option<Checkpoint> {
        let mut lines = text.strip_suffix('\n')?.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty())?.to_string();
        let size = lines.next().filter(|s| s == &"0" || !s.starts_with('0'))?.parse().ok()?;
        let root = b64::decode_std(lines.next()?).ok()?.try_into().ok()?;
        Some(Checkpoint { origin, size, root })
    }
}

/// The first 4 bytes of SHA-256 of the name, a newline, the algorithm byte and the key:
/// how C2SP names a key on a signature line.
fn key_id(name: &str, algorithm: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', algorithm]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The key id a signed note's signature line carries for an Ed25519 key of `name`
/// (C2SP signed-note, algorithm 0x01).
pub fn note_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    key_id(name, 0x01, key)
}

/// The decoded signatures of `name` on a note's signature lines, of `len` bytes each.
fn signatures_of<'a>(sigs: &'a str, name: &'a str, len: usize) -> impl Iterator<Item = Vec<u8>> + 'a {
    sigs.lines().filter_map(move |line| {
        let (who, blob) = line.strip_prefix("\u{2014} ")?.split_once(' ')?;
        b64::decode_std(blob).ok().filter(|b| b.len() == len && who == name)
    })
}

/// A witness given as `NAME=KEY` (its name and base64url Ed25519 key, as
/// `consent-verifier witness` prints them).
pub fn parse_witness(text: &str) -> Option<(String, VerifyingKey)> {
    let (name, key) = text.trim().split_once('=')?;
    let key = VerifyingKey::from_bytes(&b64::decode_array::<32>(key.trim())?).ok()?;
    Some((name.trim().to_string(), key))
}

/// The signature line of `text` signed by `sig` under `name` and `key`.
pub fn note_signature_line(name: &str, key: &VerifyingKey, sig: &Signature) -> String {
    let mut blob = note_key_id(name, key).to_vec();
    blob.extend_from_slice(&sig.to_bytes());
    alloc::format!("\u{2014} {name} {}\n", b64::encode_std(&blob))
}

/// Checks a signed note (its text, a blank line, signature lines) for a signature by
/// `name` with one of `keys`, and returns the checkpoint it carries.
pub fn open_checkpoint(note: &str, name: &str, keys: &[VerifyingKey]) -> Option<Checkpoint> {
    let split = note.find("\n\n")?;
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let signed = signatures_of(sigs, name, 68).any(|blob| {
        let Ok(sig) = Signature::from_slice(&blob[4..]) else { return false };
        keys.iter().any(|k| note_key_id(name, k) == blob[..4] && k.verify_strict(text.as_bytes(), &sig).is_ok())
    });
    signed.then(|| Checkpoint::parse(text)).flatten()
}

/// The key id of a witness's cosignature key (C2SP tlog-cosignature: as a signed note's,
/// with the algorithm byte 0x04).
pub fn cosignature_key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    key_id(name, 0x04, key)
}

/// What a witness signs for a checkpoint's text at `time` (C2SP tlog-cosignature/v1).
pub fn cosignature_message(checkpoint_text: &str, time: u64) -> String {
    alloc::format!("cosignature/v1\ntime {time}\n{checkpoint_text}")
}

/// A witness's cosignature line: key id, time (8 bytes, big endian) and signature.
pub fn cosignature_line(name: &str, key: &VerifyingKey, time: u64, sig: &Signature) -> String {
    let mut blob = cosignature_key_id(name, key).to_vec();
    blob.extend_from_slice(&time.to_be_bytes());
    blob.extend_from_slice(&sig.to_bytes());
    alloc::format!("\u{2014} {name} {}\n", b64::encode_std(&blob))
}

/// How many of `witnesses` (name and key) cosigned the checkpoint of this signed note; a
/// key given twice, under one name or two, counts once (the cosigned message does not
/// hold the name).
pub fn cosigned_by(note: &str, witnesses: &[(String, VerifyingKey)]) -> usize {
    let Some(split) = note.find("\n\n") else { return 0 };
    let (text, sigs) = (&note[..=split], &note[split + 2..]);
    let mut distinct: Vec<&(String, VerifyingKey)> = Vec::new();
    for w in witnesses {
        if !distinct.iter().any(|d| d.1 == w.1) {
            distinct.push(w);
        }
    }
    distinct
        .into_iter()
        .filter(|(name, key)| {
            signatures_of(sigs, name, 76).any(|blob| {
                let Ok(sig) = Signature::from_slice(&blob[12..]) else { return false };
                let mut time = [0u8; 8];
                time.copy_from_slice(&blob[4..12]);
                let message = cosignature_message(text, u64::from_be_bytes(time));
                cosignature_key_id(name, key) == blob[..4] && key.verify_strict(message.as_bytes(), &sig).is_ok()
            })
        })
        .count()
}

/// The names on a signed note's signature lines (the log's and its witnesses'), unchecked.
pub fn signers(note: &str) -> Vec<String> {
    let sigs = note.split_once("\n\n").map_or("", |(_, s)| s);
    sigs.lines().filter_map(|l| l.strip_prefix("\u{2014} ")?.split_once(' ').map(|(n, _)| n.to_string())).collect()
}

/// A C2SP tlog-proof: the position of one leaf, its inclusion proof, and the signed
/// checkpoint the proof leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf's index.
    pub index: u64,
    /// The proof's hashes, leaf side first.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint note.
    pub checkpoint: String,
}

impl InclusionProof {
    /// The proof as C2SP tlog-proof text.
    pub fn to_text(&self) -> String {
        let mut out = alloc::format!("{PROOF_HEADER}\nindex {}\n", self.index);
        for h in &self.hashes {
            out.push_str(&b64::encode_std(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Reads C2SP tlog-proof text (an `extra` line is allowed and ignored).
    pub fn parse(text: &str) -> Option<InclusionProof> {
        let (head, checkpoint) = text.split_once("\n\n")?;
        let mut lines = head.lines();
        (lines.next()? == PROOF_HEADER).then_some(())?;
        let mut line = lines.next()?;
        if line.starts_with("extra ") {
            line = lines.next()?;
        }
        let index = line.strip_prefix("index ")?.parse().ok()?;
        let hashes = lines.map(|l| b64::decode_std(l).ok()?.try_into().ok()).collect::<Option<Vec<Hash>>>()?;
        Some(InclusionProof { index, hashes, checkpoint: checkpoint.to_string() })
    }
}

#[cfg(test)]
mod tests;
