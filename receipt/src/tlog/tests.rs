//! The hand-written checks against `tlog_tiles` and `signed_note` (Cloudflare's
//! implementations of the same C2SP specifications): their proofs pass ours, and a note
//! either side signs, the other opens.

use alloc::vec::Vec;

use ed25519_dalek::{Signer as _, SigningKey};
use tlog_tiles::{HashReader, prove_record, prove_tree, stored_hash_count, stored_hashes, tree_hash};

use super::*;

/// An in-memory tree built by `tlog_tiles`.
struct Tree(Vec<tlog_tiles::Hash>);

impl HashReader for Tree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        Ok(indexes.iter().map(|&i| self.0[i as usize]).collect())
    }
}

fn tree(n: u64) -> Tree {
    let mut t = Tree(Vec::new());
    for i in 0..n {
        let new = stored_hashes(i, &i.to_be_bytes(), &t).unwrap();
        t.0.extend(new);
    }
    assert_eq!(t.0.len() as u64, stored_hash_count(n));
    t
}

fn ours(h: &[tlog_tiles::Hash]) -> Vec<Hash> {
    h.iter().map(|h| h.0).collect()
}

#[test]
fn inclusion_proofs_from_tlog_tiles_lead_to_its_root_and_nowhere_else() {
    for n in [1u64, 2, 3, 7, 8, 9, 31, 64, 100] {
        let t = tree(n);
        let root = tree_hash(n, &t).unwrap().0;
        for i in 0..n {
            let proof = ours(&prove_record(n, i, &t).unwrap());
            let leaf = leaf_hash(&i.to_be_bytes());
            assert_eq!(root_from_inclusion(i, n, &leaf, &proof), Some(root), "leaf {i} of {n}");
            assert_ne!(root_from_inclusion(i, n, &leaf_hash(b"other"), &proof), Some(root));
            if n > 1 {
                assert_ne!(root_from_inclusion((i + 1) % n, n, &leaf, &proof), Some(root), "another position");
            }
            if let Some((first, rest)) = proof.split_first() {
                let mut bad = rest.to_vec();
                bad.insert(0, leaf_hash(first));
                assert_ne!(root_from_inclusion(i, n, &leaf, &bad), Some(root), "a tampered proof");
            }
        }
    }
}

#[test]
fn consistency_proofs_from_tlog_tiles_hold_and_tampered_ones_do_not() {
    let t = tree(70);
    for (old, new) in [(1u64, 2u64), (1, 70), (3, 7), (4, 8), (8, 9), (13, 70), (64, 70), (70, 70)] {
        let (old_root, new_root) = (tree_hash(old, &t).unwrap().0, tree_hash(new, &t).unwrap().0);
        let proof = ours(&prove_tree(new, old, &t).unwrap());
        assert!(consistent(old, &old_root, new, &new_root, &proof), "{old} -> {new}");
        assert!(!consistent(old, &leaf_hash(b"x"), new, &new_root, &proof), "another old root");
        if !proof.is_empty() {
            let mut bad = proof.clone();
            bad[0][0] ^= 1;
            assert!(!consistent(old, &old_root, new, &new_root, &bad), "a tampered proof {old} -> {new}");
        }
    }
    assert!(!consistent(9, &tree_hash(9, &t).unwrap().0, 8, &tree_hash(8, &t).unwrap().0, &[]), "a log never shrinks");
}

#[test]
fn a_note_signed_here_opens_with_signed_note_and_the_other_way_round() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let name = "verifier.test/consent-log";
    let cp = Checkpoint { origin: name.into(), size: 42, root: leaf_hash(b"root") };
    let text = cp.body();
    let note =
        alloc::format!("{text}\n{}", note_signature_line(name, &key.verifying_key(), &key.sign(text.as_bytes())));
    assert_eq!(open_checkpoint(&note, name, &[key.verifying_key()]), Some(cp.clone()));
    assert_eq!(open_checkpoint(&note, "another.log", &[key.verifying_key()]), None);
    assert_eq!(open_checkpoint(&note, name, &[SigningKey::from_bytes(&[8; 32]).verifying_key()]), None);
    assert_eq!(open_checkpoint(&note.replace("\n42\n", "\n43\n"), name, &[key.verifying_key()]), None, "edited");

    let verifier =
        signed_note::StandardVerifier::new(&signed_note::new_ed25519_verifier_key(name, &key.verifying_key())).unwrap();
    let theirs = signed_note::Note::from_bytes(note.as_bytes()).unwrap();
    let (verified, _) =
        theirs.verify(&signed_note::VerifierList::new(alloc::vec![alloc::boxed::Box::new(verifier)])).unwrap();
    assert_eq!(verified.len(), 1, "signed_note accepts our signature");
    let checkpoint = tlog_tiles::Checkpoint::from_bytes(text.as_bytes()).unwrap();
    assert_eq!((checkpoint.size(), checkpoint.hash().0), (42, cp.root), "tlog_tiles reads our checkpoint");
}

#[test]
fn a_tlog_proof_round_trips_and_garbage_is_refused() {
    let p = InclusionProof {
        index: 5,
        hashes: alloc::vec![leaf_hash(b"a"), leaf_hash(b"b")],
        checkpoint: "x\n1\nAAAA\n\n— x AAAA\n".into(),
    };
    assert_eq!(InclusionProof::parse(&p.to_text()), Some(p.clone()));
    for bad in [
        "",
        "c2sp.org/tlog-proof@v1\n\nx",
        "c2sp.org/tlog-proof@v2\nindex 1\n\nx",
        "c2sp.org/tlog-proof@v1\nindex x\n\nx",
    ] {
        assert_eq!(InclusionProof::parse(bad), None, "{bad}");
    }
    assert_eq!(Checkpoint::parse("o\n01\nAAAA\n"), None, "a size with a leading zero");
}

#[test]
fn a_cosignature_counts_for_its_witness_and_checkpoint_only() {
    let (log, w1, w2) =
        (SigningKey::from_bytes(&[1; 32]), SigningKey::from_bytes(&[2; 32]), SigningKey::from_bytes(&[3; 32]));
    let cp = Checkpoint { origin: "log.test/consent-log".into(), size: 9, root: leaf_hash(b"r") };
    let text = cp.body();
    let mut note =
        alloc::format!("{text}\n{}", note_signature_line(&cp.origin, &log.verifying_key(), &log.sign(text.as_bytes())));
    let t = 1_767_225_600;
    let sig = w1.sign(cosignature_message(&text, t).as_bytes());
    note.push_str(&cosignature_line("w1.test", &w1.verifying_key(), t, &sig));
    let both = [("w1.test".into(), w1.verifying_key()), ("w2.test".into(), w2.verifying_key())];
    assert_eq!(cosigned_by(&note, &both), 1);
    let twice = [("w1.test".into(), w1.verifying_key()), ("w1.test".into(), w1.verifying_key())];
    assert_eq!(cosigned_by(&note, &twice), 1, "one witness given twice counts once");
    assert_eq!(cosigned_by(&note, &both[1..]), 0, "another witness");
    assert_eq!(cosigned_by(&note.replace("\n9\n", "\n10\n"), &both), 0, "another checkpoint");
    let wrong_name = [("w3.test".into(), w1.verifying_key())];
    assert_eq!(cosigned_by(&note, &wrong_name), 0, "another name");
    // The log's own signature still opens: cosignatures are more lines of the same note.
    assert_eq!(open_checkpoint(&note, &cp.origin, &[log.verifying_key()]), Some(cp));
}
