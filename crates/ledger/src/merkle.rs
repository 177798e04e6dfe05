//! The Merkle tree of RFC 6962 / RFC 9162 §2.1, with the hash as a parameter: leaves hashed as
//! `H(0x00 ‖ data)`, interior nodes as `H(0x01 ‖ left ‖ right)`, a tree of `n` leaves split at
//! the largest power of two below `n`. Proofs are planned first as the complete subtrees they
//! need ([`Plan::nodes`]), so a store reads them in one query, O(log n) rows, and assembled
//! afterwards; verification needs nothing but the proof.

/// A node's hash. SM3 and SHA-256 both give 32 bytes.
pub type Hash = [u8; 32];

/// The hash the tree is built with.
pub trait TreeHasher {
    /// The digest of the concatenation of `parts`.
    fn digest(parts: &[&[u8]]) -> Hash;

    /// RFC 6962's `MTH({})`: the hash of nothing.
    fn empty_root() -> Hash {
        Self::digest(&[])
    }

    fn leaf(data: &[u8]) -> Hash {
        Self::digest(&[&[0x00], data])
    }

    fn node(left: &Hash, right: &Hash) -> Hash {
        Self::digest(&[&[0x01], left, right])
    }
}

/// SM3 (GB/T 32905-2016): the 固废链's hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sm3;

impl TreeHasher for Sm3 {
    fn digest(parts: &[&[u8]]) -> Hash {
        use sm3::Digest as _;
        let mut h = sm3::Sm3::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }
}

/// SHA-256: Certificate Transparency's hash, for checking against its reference values.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sha256;

impl TreeHasher for Sha256 {
    fn digest(parts: &[&[u8]]) -> Hash {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }
}

/// A complete subtree: the `2^level` leaves from `index << level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u32, index: u64) -> Self {
        Self { level, index }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("条目序号 {index} 不在 {size} 条的树中")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("树的大小 {old} 大于 {new}，无法证明一致性")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("存储中缺少节点（层 {}，序号 {}）", .0.level, .0.index)]
    MissingNode(NodeId),
}

/// The complete subtrees that make up the leaves `start..end`, left to right: the aligned
/// blocks of the binary decomposition of `end - start`. For the ranges RFC 6962's recursion
/// produces (`start` a multiple of a power of two at least `end - start`), folding their
/// hashes from the right gives `MTH(D[start:end])`.
pub fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let fits = 63 - (end - at).leading_zeros();
        let aligned = if at == 0 { 63 } else { at.trailing_zeros() };
        let level = fits.min(aligned);
        out.push(NodeId::new(level, at >> level));
        at += 1 << level;
    }
    out
}

/// The hash of the subtree made of `hashes` (the complete subtrees of [`range_nodes`], left to
/// right).
fn fold<H: TreeHasher>(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| H::node(h, &acc)))
}

/// What a proof (or a root) is made of: ranges of leaves whose subtree hashes are its elements,
/// in the order RFC 6962 lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    ranges: Vec<(u64, u64)>,
}

fn split(n: u64) -> u64 {
    // The largest power of two smaller than n (n >= 2).
    1 << (63 - (n - 1).leading_zeros())
}

impl Plan {
    /// `MTH(D[0:size])` as one element (none for the empty tree).
    pub fn root(size: u64) -> Plan {
        Plan {
            ranges: if size == 0 { vec![] } else { vec![(0, size)] },
        }
    }

    /// RFC 6962 `PATH(index, D[size])`: the audit path of leaf `index`.
    pub fn inclusion(index: u64, size: u64) -> Result<Plan, ProofError> {
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut ranges = Vec::new();
        let (mut start, mut end) = (0, size);
        while end - start > 1 {
            let k = split(end - start);
            if index < start + k {
                ranges.push((start + k, end));
                end = start + k;
            } else {
                ranges.push((start, start + k));
                start += k;
            }
        }
        ranges.reverse();
        Ok(Plan { ranges })
    }

    /// RFC 6962 `PROOF(old, D[new])`: that the tree of `old` leaves is a prefix of the one of
    /// `new`. Empty when `old` is 0 or equal to `new`.
    pub fn consistency(old: u64, new: u64) -> Result<Plan, ProofError> {
        if old > new {
            return Err(ProofError::SizesOutOfOrder { old, new });
        }
        let mut ranges = Vec::new();
        if old == 0 || old == new {
            return Ok(Plan { ranges });
        }
        // SUBPROOF(m, D[start:end], whole), unrolled.
        let (mut m, mut start, mut end, mut whole) = (old, 0, new, true);
        loop {
            let n = end - start;
            if m == n {
                if !whole {
                    ranges.push((start, end));
                }
                break;
            }
            let k = split(n);
            if m <= k {
                ranges.push((start + k, end));
                end = start + k;
            } else {
                ranges.push((start, start + k));
                m -= k;
                start += k;
                whole = false;
            }
        }
        ranges.reverse();
        Ok(Plan { ranges })
    }

    /// Every complete subtree the plan needs, sorted, once each.
    pub fn nodes(&self) -> Vec<NodeId> {
        let mut all: Vec<NodeId> = self
            .ranges
            .iter()
            .flat_map(|&(s, e)| range_nodes(s, e))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The proof's hashes, from the complete subtrees' hashes given by `lookup`.
    pub fn assemble<H: TreeHasher>(
        &self,
        lookup: impl Fn(NodeId) -> Option<Hash>,
    ) -> Result<Vec<Hash>, ProofError> {
        let mut parts = Vec::new();
        self.ranges
            .iter()
            .map(|&(s, e)| {
                parts.clear();
                for id in range_nodes(s, e) {
                    parts.push(lookup(id).ok_or(ProofError::MissingNode(id))?);
                }
                Ok(fold::<H>(&parts).expect("a plan's ranges are not empty"))
            })
            .collect()
    }
}

/// RFC 9162 §2.1.3.2: whether `path` proves that `leaf` is leaf `index` of the tree of `size`
/// leaves whose root is `root`.
pub fn verify_inclusion<H: TreeHasher>(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = H::node(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = H::node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `path` proves that the tree of `old` leaves with root `old_root`
/// is a prefix of the tree of `new` leaves with root `new_root`. Equal sizes need equal roots
/// and an empty path; any tree extends the empty one.
pub fn verify_consistency<H: TreeHasher>(
    old: u64,
    new: u64,
    path: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return path.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return path.is_empty();
    }
    if path.is_empty() {
        return false;
    }
    let mut path = path.iter();
    let first = if old.is_power_of_two() {
        *old_root
    } else {
        *path.next().expect("not empty")
    };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in path {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = H::node(c, &fr);
            sr = H::node(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = H::node(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && fr == *old_root && sr == *new_root
}

/// The right edge of a tree: the complete subtrees of [`range_nodes`]`(0, size)`. Enough to
/// append leaves and to compute the root without reading anything else, which is how the
/// log's writer keeps up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<(NodeId, Hash)>,
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` leaves from its nodes (the hashes of
    /// [`range_nodes`]`(0, size)`, left to right).
    pub fn from_nodes(size: u64, hashes: Vec<Hash>) -> Option<Self> {
        let ids = range_nodes(0, size);
        (ids.len() == hashes.len()).then(|| Frontier {
            size,
            nodes: ids.into_iter().zip(hashes).collect(),
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hashes of the right edge, left to right (what [`Frontier::from_nodes`] takes).
    pub fn hashes(&self) -> Vec<Hash> {
        self.nodes.iter().map(|(_, h)| *h).collect()
    }

    /// Adds a leaf (its hash); returns the complete subtrees that exist now and did not before,
    /// the leaf first.
    pub fn push<H: TreeHasher>(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut made = vec![(NodeId::new(0, self.size), leaf)];
        self.nodes.push(made[0]);
        self.size += 1;
        while self.nodes.len() >= 2 {
            let (r_id, r) = self.nodes[self.nodes.len() - 1];
            let (l_id, l) = self.nodes[self.nodes.len() - 2];
            if l_id.level != r_id.level {
                break;
            }
            let parent = (
                NodeId::new(l_id.level + 1, l_id.index >> 1),
                H::node(&l, &r),
            );
            self.nodes.truncate(self.nodes.len() - 2);
            self.nodes.push(parent);
            made.push(parent);
        }
        made
    }

    pub fn root<H: TreeHasher>(&self) -> Hash {
        fold::<H>(&self.hashes()).unwrap_or_else(H::empty_root)
    }
}

/// A whole tree in memory (every complete subtree), for witnesses' checks, tests and benches.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    pub fn push<H: TreeHasher>(&mut self, leaf: Hash) {
        for (id, h) in self.frontier.push::<H>(leaf) {
            let level = id.level as usize;
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(h);
        }
    }

    pub fn node(&self, id: NodeId) -> Option<Hash> {
        self.levels
            .get(id.level as usize)?
            .get(usize::try_from(id.index).ok()?)
            .copied()
    }

    /// The root of the first `size` leaves.
    pub fn root<H: TreeHasher>(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(Plan::root(size)
            .assemble::<H>(|id| self.node(id))?
            .pop()
            .unwrap_or_else(H::empty_root))
    }

    pub fn inclusion<H: TreeHasher>(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check(size)?;
        Plan::inclusion(index, size)?.assemble::<H>(|id| self.node(id))
    }

    pub fn consistency<H: TreeHasher>(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        self.check(new)?;
        Plan::consistency(old, new)?.assemble::<H>(|id| self.node(id))
    }

    fn check(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(())
    }
}
