//! Conformance: with SHA-256 the tree gives Certificate Transparency's reference roots and
//! proofs; with SM3 its proofs verify with `ct-merkle`, an independent implementation, and its
//! verifier accepts `ct-merkle`'s. The reference values are data from transparency-dev/merkle
//! (`proof/verify_test.go`, Apache-2.0), the vectors CT implementations test against.
use tongban_ledger::merkle::{
    Hash, MemoryTree, Plan, Sha256, Sm3, TreeHasher, range_nodes, verify_consistency,
    verify_inclusion,
};

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The roots of the first 1..=8 leaves.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (leaf index, tree size, audit path).
const INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, consistency proof).
const CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn hexes(path: &[Hash]) -> Vec<String> {
    path.iter().map(hex::encode).collect()
}

fn reference_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in LEAVES {
        tree.push::<Sha256>(Sha256::leaf(&hex::decode(leaf).unwrap()));
    }
    tree
}

#[test]
fn sha256_roots_are_certificate_transparencys() {
    let tree = reference_tree();
    assert_eq!(hex::encode(tree.root::<Sha256>(0).unwrap()), EMPTY_ROOT);
    for (n, root) in ROOTS.iter().enumerate() {
        assert_eq!(
            hex::encode(tree.root::<Sha256>(n as u64 + 1).unwrap()),
            *root,
            "root of the first {} leaves",
            n + 1
        );
    }
}

#[test]
fn sha256_proofs_are_certificate_transparencys_and_verify() {
    let tree = reference_tree();
    for (index, size, want) in INCLUSION {
        let path = tree.inclusion::<Sha256>(index, size).unwrap();
        assert_eq!(hexes(&path), want, "audit path of leaf {index} in {size}");
        let leaf = Sha256::leaf(&hex::decode(LEAVES[index as usize]).unwrap());
        let root = h(ROOTS[size as usize - 1]);
        assert!(verify_inclusion::<Sha256>(index, size, &leaf, &path, &root));
    }
    for (old, new, want) in CONSISTENCY {
        let path = tree.consistency::<Sha256>(old, new).unwrap();
        assert_eq!(hexes(&path), want, "consistency proof {old} -> {new}");
        let (r1, r2) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        assert!(verify_consistency::<Sha256>(old, new, &path, &r1, &r2));
    }
}

/// The corruptions transparency-dev/merkle's verifier tests try: each must be refused.
#[test]
fn a_changed_proof_index_size_leaf_or_root_is_refused() {
    let tree = reference_tree();
    let other = h("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (index, size, _) in INCLUSION {
        let path = tree.inclusion::<Sha256>(index, size).unwrap();
        let leaf = Sha256::leaf(&hex::decode(LEAVES[index as usize]).unwrap());
        let root = h(ROOTS[size as usize - 1]);
        let ok = |i: u64, n: u64, leaf: &Hash, p: &[Hash], r: &Hash| {
            verify_inclusion::<Sha256>(i, n, leaf, p, r)
        };
        assert!(!ok(index.wrapping_sub(1), size, &leaf, &path, &root));
        assert!(!ok(index + 1, size, &leaf, &path, &root));
        assert!(!ok(index ^ 2, size, &leaf, &path, &root));
        assert!(!ok(index, size * 2, &leaf, &path, &root));
        assert!(!ok(index, size / 2, &leaf, &path, &root));
        assert!(!ok(index, size, &other, &path, &root));
        assert!(!ok(index, size, &leaf, &path, &h(EMPTY_ROOT)));
        assert!(!ok(index, size, &leaf, &path, &other));
        let mut longer = path.clone();
        longer.push(root);
        assert!(!ok(index, size, &leaf, &longer, &root));
        let mut earlier = vec![root];
        earlier.extend(&path);
        assert!(!ok(index, size, &leaf, &earlier, &root));
        assert!(!ok(index, size, &leaf, &path[..path.len() - 1], &root));
        for i in 0..path.len() {
            let mut flipped = path.clone();
            flipped[i][0] ^= 8;
            assert!(
                !ok(index, size, &leaf, &flipped, &root),
                "bit flipped in {i}"
            );
        }
    }
    for (old, new, _) in CONSISTENCY {
        let path = tree.consistency::<Sha256>(old, new).unwrap();
        let (r1, r2) = (h(ROOTS[old as usize - 1]), h(ROOTS[new as usize - 1]));
        let ok = |a: u64, b: u64, p: &[Hash], x: &Hash, y: &Hash| {
            verify_consistency::<Sha256>(a, b, p, x, y)
        };
        assert!(!ok(old - 1, new, &path, &r1, &r2));
        assert!(!ok(old + 1, new, &path, &r1, &r2));
        assert!(!ok(old ^ 2, new, &path, &r1, &r2));
        assert!(!ok(old, new * 2, &path, &r1, &r2));
        assert!(!ok(old, new / 2, &path, &r1, &r2));
        assert!(!ok(old, new, &path, &other, &r2));
        assert!(!ok(old, new, &path, &r1, &other));
        assert!(!ok(old, new, &path, &r2, &r1));
        assert!(!ok(old, new, &[], &r1, &r2));
        assert!(!ok(old, new, &path[..path.len() - 1], &r1, &r2));
        let mut longer = path.clone();
        longer.push(r2);
        assert!(!ok(old, new, &longer, &r1, &r2));
        let mut earlier = vec![path[0]];
        earlier.extend(&path);
        assert!(!ok(old, new, &earlier, &r1, &r2));
        for i in 0..path.len() {
            let mut flipped = path.clone();
            flipped[i][0] ^= 16;
            assert!(!ok(old, new, &flipped, &r1, &r2), "bit flipped in {i}");
        }
    }
}

#[test]
fn trivial_consistency_and_out_of_range_requests() {
    let tree = reference_tree();
    let r = h(ROOTS[3]);
    assert!(verify_consistency::<Sha256>(4, 4, &[], &r, &r));
    assert!(!verify_consistency::<Sha256>(4, 4, &[], &r, &h(ROOTS[4])));
    assert!(!verify_consistency::<Sha256>(4, 4, &[r], &r, &r));
    assert!(verify_consistency::<Sha256>(0, 4, &[], &h(EMPTY_ROOT), &r));
    assert!(!verify_consistency::<Sha256>(5, 4, &[], &r, &r));
    assert!(tree.inclusion::<Sha256>(8, 8).is_err());
    assert!(tree.inclusion::<Sha256>(0, 9).is_err());
    assert!(tree.consistency::<Sha256>(5, 4).is_err());
    assert!(Plan::consistency(3, 3).unwrap().nodes().is_empty());
}

/// Every leaf of every tree up to 70 leaves, and every pair of sizes: our proofs verify, and
/// a proof reads O(log n) stored nodes.
#[test]
fn every_shape_proves_and_verifies_with_few_nodes() {
    let mut tree = MemoryTree::new();
    for i in 0..70u32 {
        tree.push::<Sm3>(Sm3::leaf(&i.to_be_bytes()));
    }
    for n in 1..=70u64 {
        let root = tree.root::<Sm3>(n).unwrap();
        let bound = 2 * (64 - n.leading_zeros()) as usize;
        for i in 0..n {
            let plan = Plan::inclusion(i, n).unwrap();
            assert!(plan.nodes().len() <= bound, "leaf {i} of {n}");
            let path = tree.inclusion::<Sm3>(i, n).unwrap();
            let leaf = Sm3::leaf(&(i as u32).to_be_bytes());
            assert!(verify_inclusion::<Sm3>(i, n, &leaf, &path, &root));
            assert!(!verify_inclusion::<Sm3>(
                i,
                n,
                &Sm3::leaf(b"x"),
                &path,
                &root
            ));
        }
        for m in 0..=n {
            let plan = Plan::consistency(m, n).unwrap();
            assert!(plan.nodes().len() <= 2 * bound, "{m} -> {n}");
            let path = tree.consistency::<Sm3>(m, n).unwrap();
            let old = tree.root::<Sm3>(m).unwrap();
            assert!(
                verify_consistency::<Sm3>(m, n, &path, &old, &root),
                "{m} -> {n}"
            );
            if m > 0 && m < n {
                assert!(!verify_consistency::<Sm3>(m, n, &path, &root, &root));
            }
        }
    }
    // The root's nodes are the binary decomposition of the size.
    assert_eq!(range_nodes(0, 13).len(), 3);
}
