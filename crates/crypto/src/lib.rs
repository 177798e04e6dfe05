//! Commercial cryptography (商用密码) for Tongban. This crate holds the SM3 digest used to address
//! stored files and chain events; SM2 signatures and SM4 field encryption join it with the identity work.
#![forbid(unsafe_code)]

mod digest;

pub use digest::{Sm3Digest, Sm3Hasher, sm3};
