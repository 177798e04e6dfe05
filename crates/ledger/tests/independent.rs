//! With SM3, our proofs verify with `ct-merkle` (an independent RFC 6962 implementation, over
//! the independent `sm3` 0.5), and `ct-merkle`'s proofs verify with ours.
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof};
use sm3_independent::Sm3 as TheirSm3;
use tongban_ledger::merkle::{MemoryTree, Sm3, TreeHasher, verify_consistency, verify_inclusion};

fn leaf_data(i: usize) -> Vec<u8> {
    format!("tongban-ledger/entry/v1\nseq {i}\ncontract filing\n").into_bytes()
}

fn flat(path: &[[u8; 32]]) -> Vec<u8> {
    path.concat()
}

#[test]
fn our_sm3_proofs_verify_with_ct_merkle_and_theirs_with_ours() {
    let mut ours = MemoryTree::new();
    let mut theirs_by_size: Vec<MemoryBackedTree<TheirSm3, Vec<u8>>> = Vec::new();
    let mut theirs = MemoryBackedTree::<TheirSm3, Vec<u8>>::new();
    for i in 0..41 {
        ours.push::<Sm3>(Sm3::leaf(&leaf_data(i)));
        theirs.push(leaf_data(i));
        theirs_by_size.push(theirs.clone());
    }
    for n in 1..=41u64 {
        let tree = &theirs_by_size[n as usize - 1];
        let their_root = tree.root();
        let our_root = ours.root::<Sm3>(n).unwrap();
        assert_eq!(their_root.as_bytes().as_slice(), our_root, "root of {n}");
        for i in 0..n {
            let path = ours.inclusion::<Sm3>(i, n).unwrap();
            let proof = InclusionProof::<TheirSm3>::from_bytes(flat(&path));
            their_root
                .verify_inclusion(&leaf_data(i as usize), i, &proof)
                .unwrap_or_else(|e| panic!("ct-merkle refused our proof of {i} in {n}: {e:?}"));
            let theirs: Vec<[u8; 32]> = tree
                .prove_inclusion(i as usize)
                .as_bytes()
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect();
            assert_eq!(theirs, path, "audit path of {i} in {n}");
            let leaf = Sm3::leaf(&leaf_data(i as usize));
            assert!(verify_inclusion::<Sm3>(i, n, &leaf, &theirs, &our_root));
        }
        for m in 1..n {
            let old_root = theirs_by_size[m as usize - 1].root();
            let path = ours.consistency::<Sm3>(m, n).unwrap();
            let proof = ConsistencyProof::<TheirSm3>::try_from_bytes(flat(&path)).unwrap();
            their_root
                .verify_consistency(&old_root, &proof)
                .unwrap_or_else(|e| panic!("ct-merkle refused our proof {m} -> {n}: {e:?}"));
            let theirs: Vec<[u8; 32]> = tree
                .prove_consistency((n - m) as usize)
                .as_bytes()
                .chunks(32)
                .map(|c| c.try_into().unwrap())
                .collect();
            let old: [u8; 32] = old_root.as_bytes().as_slice().try_into().unwrap();
            assert!(
                verify_consistency::<Sm3>(m, n, &theirs, &old, &our_root),
                "{m} -> {n}"
            );
        }
    }
}
