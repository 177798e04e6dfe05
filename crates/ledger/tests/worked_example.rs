//! The worked example of docs/ledger.md, checked: the entry's leaf text and hash, and a
//! two-entry tree's root and audit path, as the page prints them.
use tongban_ledger::entry::Entry;
use tongban_ledger::merkle::{MemoryTree, Sm3, TreeHasher, verify_inclusion};

const PAGE: &str = include_str!("../../../docs/ledger.md");

/// The text of the fenced block that follows the line `marker` on the page.
fn block_after(marker: &str) -> String {
    let from = PAGE
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} is on the page"));
    let rest = &PAGE[from..];
    let start = rest.find("```text\n").expect("a text block follows") + "```text\n".len();
    let end = rest[start..].find("```").expect("the block ends");
    rest[start..start + end].to_string()
}

fn value_after(marker: &str) -> String {
    block_after(marker).trim().to_string()
}

fn example(seq: u64, prev: Option<u64>, status: &str) -> Entry {
    Entry {
        seq,
        contract: "disposal_process".into(),
        version: 1,
        key: "SWGF2026120100001".into(),
        operation: if prev.is_none() { "create" } else { "status" }.into(),
        payload: format!(r#"{{"status":"{status}","application_no":"SWGF2026120100001"}}"#),
        app_id: "shanghai-eeb".into(),
        app_signature: "3045022100".into(),
        at: 1_764_547_200_000,
        prev,
    }
}

#[test]
fn the_pages_worked_example_is_what_the_log_computes() {
    let first = example(0, None, "submitted");
    let second = example(1, Some(0), "accepted");
    assert_eq!(
        block_after("<!-- example: leaf text -->"),
        first.leaf_text()
    );
    assert_eq!(
        value_after("<!-- example: leaf hash -->"),
        hex::encode(first.leaf_hash())
    );
    let mut tree = MemoryTree::new();
    tree.push::<Sm3>(first.leaf_hash());
    tree.push::<Sm3>(second.leaf_hash());
    let root = tree.root::<Sm3>(2).unwrap();
    assert_eq!(value_after("<!-- example: root -->"), hex::encode(root));
    let path = tree.inclusion::<Sm3>(0, 2).unwrap();
    assert_eq!(path, vec![second.leaf_hash()]);
    assert_eq!(
        value_after("<!-- example: audit path -->"),
        hex::encode(path[0])
    );
    assert!(verify_inclusion::<Sm3>(
        0,
        2,
        &first.leaf_hash(),
        &path,
        &root
    ));
    assert_eq!(root, Sm3::node(&first.leaf_hash(), &second.leaf_hash()));
}
