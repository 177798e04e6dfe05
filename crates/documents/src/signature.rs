//! SM2 signatures inside a PDF, the way PDF signatures work: each signature is an incremental
//! update appended to the file, holding the signer's mark (a seal or signed name drawn on the
//! page) and a signature dictionary whose `/ByteRange` covers every byte of the file except
//! its own `/Contents`. The signature is SM2 over the SM3 digest of those bytes.
//!
//! Signing in order (the person first, then the employer) falls out of this: a later signature
//! appends after an earlier one and covers it, and the earlier one still covers exactly the
//! bytes it signed. Any change after signing either alters signed bytes (its digest no longer
//! matches) or appends bytes no signature covers; `verify` reports both.
//!
//! The filter is our own (`/Tongban.SM2`): general PDF readers show the document and its marks
//! but cannot check the signatures; `tongban doc verify` and the verify page do.
use std::io::Write;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};
use tongban_crypto::{Sm2KeyPair, Sm2PublicKey, sm3};

use crate::render::Slot;

const FILTER: &[u8] = b"Tongban.SM2";
/// Room for the DER signature, hex encoded (an SM2 signature is at most 72 bytes).
const CONTENTS_BYTES: usize = 80;
const PLACEHOLDER_NUMBER: &str = "0000000000";

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("不是有效的PDF文件：{0}")]
    NotPdf(String),
    #[error("签章位置有误：{0}")]
    Slot(String),
    #[error("签名值无效：不是该证书对本文件摘要的签名")]
    BadSignature,
}

/// Who signs, and how they proved it.
pub struct Signer<'a> {
    pub key: &'a Sm2KeyPair,
    /// The name shown and recorded: a person, an enterprise or the bureau.
    pub name: String,
    /// The box it signs: `applicant`, `employer`, `issuer`…
    pub role: String,
    /// How the signer was authenticated, in words: 数字证书, 短信验证码, 电子印章.
    pub method: String,
    /// The signer's certificate (PEM) when its key has one.
    pub certificate: Option<String>,
}

impl Signer<'_> {
    pub fn info(&self) -> SignerInfo {
        SignerInfo {
            public_key: self.key.public_key(),
            name: self.name.clone(),
            role: self.role.clone(),
            method: self.method.clone(),
            certificate: self.certificate.clone(),
        }
    }
}

/// A signer whose private key is elsewhere (an enterprise's 一证通 key): what the signature
/// dictionary records before the key signs the digest.
#[derive(Debug, Clone)]
pub struct SignerInfo {
    pub public_key: Sm2PublicKey,
    pub name: String,
    pub role: String,
    pub method: String,
    pub certificate: Option<String>,
}

/// A PDF with its signature update appended and the signature left as zeros: the digest goes
/// to the signer's key, and `finish` writes what it returns.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub pdf: Vec<u8>,
    /// Where the `<…>` of `/Contents` starts.
    pub contents_at: usize,
}

impl Prepared {
    /// Takes back a prepared file kept between two requests; checks the placeholder is there.
    pub fn from_parts(pdf: Vec<u8>, contents_at: usize) -> Result<Prepared, SignError> {
        let end = contents_at + 2 + CONTENTS_BYTES * 2;
        let ok = end <= pdf.len()
            && pdf[contents_at] == b'<'
            && pdf[end - 1] == b'>'
            && pdf[contents_at + 1..end - 1].iter().all(|&b| b == b'0');
        if !ok {
            return Err(bad("待签文件已损坏"));
        }
        Ok(Prepared { pdf, contents_at })
    }

    fn contents_end(&self) -> usize {
        self.contents_at + 2 + CONTENTS_BYTES * 2
    }

    /// SM3 of the bytes the signature will cover: what the signer's key signs.
    pub fn digest(&self) -> tongban_crypto::Sm3Digest {
        covered_digest(
            &self.pdf,
            self.contents_at,
            self.contents_end(),
            self.pdf.len(),
        )
    }

    /// Writes `signature` (DER) in, after checking it is `key`'s over the digest.
    pub fn finish(mut self, key: &Sm2PublicKey, signature: &[u8]) -> Result<Vec<u8>, SignError> {
        if der_prefix(signature) != Some(signature)
            || key.verify(self.digest().as_bytes(), signature).is_err()
        {
            return Err(SignError::BadSignature);
        }
        let hex = hex::encode_upper(signature);
        let at = self.contents_at + 1;
        self.pdf[at..at + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.pdf)
    }
}

/// The mark drawn in the signer's slot: a one-page PDF the size of the slot (see `Stamp`).
pub struct Mark<'a> {
    pub slot: &'a Slot,
    pub stamp_pdf: &'a [u8],
}

/// One signature found in a PDF.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureInfo {
    pub name: String,
    pub role: String,
    pub method: String,
    /// `YYYY-MM-DD HH:MM:SS` as the signer's clock wrote it.
    pub time: String,
    /// The same instant with its UTC offset, when the file gives one.
    pub signed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub public_key: Sm2PublicKey,
    pub certificate: Option<String>,
    /// SM3 of the bytes this signature covers, hex.
    pub digest: String,
    /// Where the signed part of the file ends.
    pub covers: usize,
    /// The signature is valid for those bytes.
    pub valid: bool,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// In signing order.
    pub signatures: Vec<SignatureInfo>,
    /// Bytes after the last signature that no signature covers (changes made after signing).
    pub unsigned_tail: usize,
}

impl Verification {
    /// Signed, every signature valid, nothing changed since the last one.
    pub fn intact(&self) -> bool {
        !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.valid)
            && self.unsigned_tail == 0
    }
}

fn bad(e: impl std::fmt::Display) -> SignError {
    SignError::NotPdf(e.to_string())
}

/// A PDF text string: UTF-16BE with its byte-order mark, hex encoded.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        out.push_str(&format!("{unit:04X}"));
    }
    out.push('>');
    out
}

fn decode_text(object: Option<&Object>) -> String {
    object
        .and_then(|o| lopdf::decode_text_string(o).ok())
        .unwrap_or_default()
}

/// The offset after the last `startxref` keyword: where the previous cross-reference starts.
fn previous_xref(pdf: &[u8]) -> Result<i64, SignError> {
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_start..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| bad("找不到 startxref"))?;
    let digits: String = tail[at + 9..]
        .iter()
        .map(|&b| b as char)
        .skip_while(|c| c.is_ascii_whitespace())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().map_err(bad)
}

/// Copies the objects `root` refers to (transitively) from `from`, renumbered from `next`.
struct Importer<'a> {
    from: &'a Document,
    next: u32,
    map: std::collections::BTreeMap<ObjectId, ObjectId>,
    out: Vec<(ObjectId, Object)>,
}

impl Importer<'_> {
    fn object(&mut self, object: &Object) -> Object {
        match object {
            Object::Reference(id) => Object::Reference(self.reference(*id)),
            Object::Array(items) => Object::Array(items.iter().map(|o| self.object(o)).collect()),
            Object::Dictionary(dict) => Object::Dictionary(self.dictionary(dict)),
            Object::Stream(stream) => {
                let mut copy = Stream::new(self.dictionary(&stream.dict), stream.content.clone());
                copy.allows_compression = false;
                Object::Stream(copy)
            }
            other => other.clone(),
        }
    }

    fn dictionary(&mut self, dict: &Dictionary) -> Dictionary {
        let mut out = Dictionary::new();
        for (key, value) in dict.iter() {
            out.set(key.clone(), self.object(value));
        }
        out
    }

    fn reference(&mut self, id: ObjectId) -> ObjectId {
        if let Some(new) = self.map.get(&id) {
            return *new;
        }
        let new = (self.next, 0);
        self.next += 1;
        self.map.insert(id, new);
        let copied = match self.from.get_object(id) {
            Ok(object) => self.object(&object.clone()),
            Err(_) => Object::Null,
        };
        self.out.push((new, copied));
        new
    }
}

fn resolve<'a>(doc: &'a Document, object: &'a Object) -> Result<&'a Object, SignError> {
    doc.dereference(object).map(|(_, o)| o).map_err(bad)
}

/// The stamp's page as a form XObject with its resources copied in.
fn import_stamp(
    importer: &mut Importer,
    stamp: &Document,
) -> Result<(Dictionary, Vec<u8>), SignError> {
    let page_id = *stamp
        .get_pages()
        .values()
        .next()
        .ok_or_else(|| bad("印章页缺失"))?;
    let page = stamp.get_dictionary(page_id).map_err(bad)?;
    let media = resolve(stamp, page.get(b"MediaBox").map_err(bad)?)?.clone();
    let resources = match page.get(b"Resources") {
        Ok(r) => resolve(stamp, r)?.clone(),
        Err(_) => Object::Dictionary(Dictionary::new()),
    };
    let contents = resolve(stamp, page.get(b"Contents").map_err(bad)?)?;
    let streams: Vec<&Stream> = match contents {
        Object::Stream(s) => vec![s],
        Object::Array(items) => items
            .iter()
            .filter_map(|o| resolve(stamp, o).ok().and_then(|o| o.as_stream().ok()))
            .collect(),
        _ => return Err(bad("印章页内容无效")),
    };
    let mut content = Vec::new();
    for stream in streams {
        let plain = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        content.extend_from_slice(&plain);
        content.push(b'\n');
    }
    let mut form = Dictionary::new();
    form.set("Type", Object::Name(b"XObject".to_vec()));
    form.set("Subtype", Object::Name(b"Form".to_vec()));
    form.set("BBox", media);
    form.set("Resources", importer.object(&resources));
    Ok((form, content))
}

fn write_indirect(out: &mut Vec<u8>, id: ObjectId, object: &Object) -> Result<(), SignError> {
    writeln!(out, "{} {} obj", id.0, id.1).map_err(bad)?;
    lopdf::Writer::write_object(out, object).map_err(bad)?;
    out.extend_from_slice(b"\nendobj\n");
    Ok(())
}

fn stream_object(content: Vec<u8>) -> Object {
    let mut stream = Stream::new(Dictionary::new(), content);
    stream.allows_compression = false;
    Object::Stream(stream)
}

/// Signs `pdf` and returns the signed file: `pdf` unchanged, then one appended update.
pub fn sign(
    pdf: &[u8],
    signer: &Signer,
    mark: Option<&Mark>,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Vec<u8>, SignError> {
    let prepared = prepare(pdf, &signer.info(), mark, at)?;
    let signature = signer.key.sign(prepared.digest().as_bytes());
    prepared.finish(&signer.key.public_key(), &signature)
}

/// Appends the signer's mark and signature dictionary to `pdf`, the signature left to fill.
pub fn prepare(
    pdf: &[u8],
    signer: &SignerInfo,
    mark: Option<&Mark>,
    at: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Prepared, SignError> {
    let doc = Document::load_mem(pdf).map_err(bad)?;
    let prev = previous_xref(pdf)?;
    // New objects are numbered after the document's own.
    let mut next = doc.max_id + 1;
    let mut objects: Vec<(ObjectId, Object)> = Vec::new();

    if let Some(mark) = mark {
        let stamp = Document::load_mem(mark.stamp_pdf).map_err(bad)?;
        let mut importer = Importer {
            from: &stamp,
            next,
            map: Default::default(),
            out: Vec::new(),
        };
        let (form_dict, form_content) = import_stamp(&mut importer, &stamp)?;
        objects.append(&mut importer.out);
        let form_id = (importer.next, 0);
        let before_id = (importer.next + 1, 0);
        let after_id = (importer.next + 2, 0);
        next = importer.next + 3;
        objects.push((
            form_id,
            Object::Stream(Stream::new(form_dict, form_content)),
        ));

        let pages = doc.get_pages();
        let page_id = *pages
            .get(&(mark.slot.page as u32))
            .ok_or_else(|| SignError::Slot(format!("第{}页不存在", mark.slot.page)))?;
        let mut page = doc.get_dictionary(page_id).map_err(bad)?.clone();
        let name = format!("TbSig{}", form_id.0);
        // Wrap the page's own content in q/Q so its graphics state cannot move our mark.
        objects.push((before_id, stream_object(b"q\n".to_vec())));
        let draw = format!(
            "Q\n/Artifact BMC\nq 1 0 0 1 {:.3} {:.3} cm /{name} Do Q\nEMC\n",
            mark.slot.x, mark.slot.y
        );
        objects.push((after_id, stream_object(draw.into_bytes())));
        let mut contents = vec![Object::Reference(before_id)];
        match page.get(b"Contents").map_err(bad)? {
            Object::Array(items) => contents.extend(items.iter().cloned()),
            other => contents.push(other.clone()),
        }
        contents.push(Object::Reference(after_id));
        page.set("Contents", Object::Array(contents));
        let mut resources = match page.get(b"Resources") {
            Ok(r) => resolve(&doc, r)?.as_dict().map_err(bad)?.clone(),
            Err(_) => Dictionary::new(),
        };
        let mut xobjects = match resources.get(b"XObject") {
            Ok(x) => resolve(&doc, x)?.as_dict().map_err(bad)?.clone(),
            Err(_) => Dictionary::new(),
        };
        xobjects.set(name.into_bytes(), Object::Reference(form_id));
        resources.set("XObject", Object::Dictionary(xobjects));
        page.set("Resources", Object::Dictionary(resources));
        objects.push((page_id, Object::Dictionary(page)));
    }

    let sig_id = (next, 0);
    let size = sig_id.0 + 1;

    // The file as it will be, with the signature left as zeros to fill in afterwards.
    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets = Vec::new();
    for (id, object) in &objects {
        offsets.push((*id, out.len()));
        write_indirect(&mut out, *id, object)?;
    }
    offsets.push((sig_id, out.len()));
    write!(
        out,
        "{} 0 obj\n<< /Type /Sig /Filter /Tongban.SM2 /SubFilter /Tongban.SM3",
        sig_id.0
    )
    .map_err(bad)?;
    write!(
        out,
        " /Name {} /Reason {} /Tongban.Role {} /M (D:{})",
        text_string(&signer.name),
        text_string(&signer.method),
        text_string(&signer.role),
        at.format("%Y%m%d%H%M%S%:z").to_string().replace(':', "'")
    )
    .map_err(bad)?;
    write!(
        out,
        " /Tongban.Key <{}>",
        hex::encode_upper(signer.public_key.to_spki_der())
    )
    .map_err(bad)?;
    if let Some(pem) = &signer.certificate {
        write!(
            out,
            " /Tongban.Cert <{}>",
            hex::encode_upper(pem.as_bytes())
        )
        .map_err(bad)?;
    }
    out.extend_from_slice(b" /ByteRange [0 ");
    let range_at = out.len();
    write!(
        out,
        "{PLACEHOLDER_NUMBER} {PLACEHOLDER_NUMBER} {PLACEHOLDER_NUMBER}] /Contents "
    )
    .map_err(bad)?;
    let contents_at = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', CONTENTS_BYTES * 2));
    out.push(b'>');
    let contents_end = out.len();
    out.extend_from_slice(b" >>\nendobj\n");

    let xref_at = out.len();
    out.extend_from_slice(b"xref\n");
    for (id, offset) in &offsets {
        write!(out, "{} 1\n{:010} {:05} n \n", id.0, offset, id.1).map_err(bad)?;
    }
    let mut trailer = Dictionary::new();
    trailer.set("Size", Object::Integer(size.into()));
    for key in [b"Root".as_slice(), b"Info", b"ID"] {
        if let Ok(value) = doc.trailer.get(key) {
            trailer.set(key.to_vec(), value.clone());
        }
    }
    trailer.set("Prev", Object::Integer(prev));
    out.extend_from_slice(b"trailer\n");
    lopdf::Writer::write_object(&mut out, &Object::Dictionary(trailer)).map_err(bad)?;
    write!(out, "\nstartxref\n{xref_at}\n%%EOF\n").map_err(bad)?;

    // Fill in the byte range: everything but the <…> of /Contents.
    let ranges = format!(
        "{:010} {:010} {:010}",
        contents_at,
        contents_end,
        out.len() - contents_end
    );
    out[range_at..range_at + ranges.len()].copy_from_slice(ranges.as_bytes());
    Ok(Prepared {
        pdf: out,
        contents_at,
    })
}

fn covered_digest(
    pdf: &[u8],
    gap_start: usize,
    gap_end: usize,
    end: usize,
) -> tongban_crypto::Sm3Digest {
    let mut hasher = tongban_crypto::Sm3Hasher::new();
    hasher.update(&pdf[..gap_start]);
    hasher.update(&pdf[gap_end..end]);
    hasher.finish()
}

fn integer(object: &Object) -> Option<usize> {
    match object {
        Object::Integer(i) => usize::try_from(*i).ok(),
        _ => None,
    }
}

/// One DER SEQUENCE at the start of `bytes` (the signature, before the zero padding).
fn der_prefix(bytes: &[u8]) -> Option<&[u8]> {
    if bytes.len() < 2 || bytes[0] != 0x30 || bytes[1] >= 0x80 {
        return None;
    }
    bytes.get(..2 + bytes[1] as usize)
}

/// Finds and checks every Tongban signature in `pdf`.
pub fn verify(pdf: &[u8]) -> Result<Verification, SignError> {
    let doc = Document::load_mem(pdf).map_err(bad)?;
    let mut signatures = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        let is_ours = matches!(dict.get(b"Type"), Ok(Object::Name(n)) if n == b"Sig")
            && matches!(dict.get(b"Filter"), Ok(Object::Name(n)) if n == FILTER);
        if !is_ours {
            continue;
        }
        let range: Vec<usize> = match dict.get(b"ByteRange") {
            Ok(Object::Array(items)) => items.iter().filter_map(integer).collect(),
            _ => Vec::new(),
        };
        let Ok(public_key) = (match dict.get(b"Tongban.Key") {
            Ok(Object::String(der, _)) => Sm2PublicKey::from_spki_der(der),
            _ => Err(tongban_crypto::CryptoError::InvalidKey),
        }) else {
            continue;
        };
        let signature = match dict.get(b"Contents") {
            Ok(Object::String(bytes, _)) => der_prefix(bytes).map(<[u8]>::to_vec),
            _ => None,
        };
        let certificate = match dict.get(b"Tongban.Cert") {
            Ok(Object::String(pem, _)) => String::from_utf8(pem.clone()).ok(),
            _ => None,
        };
        let (time, signed_at) = match dict.get(b"M") {
            Ok(Object::String(m, _)) => {
                let m = String::from_utf8_lossy(m);
                (pdf_date(&m), pdf_instant(&m))
            }
            _ => (String::new(), None),
        };
        let mut info = SignatureInfo {
            name: decode_text(dict.get(b"Name").ok()),
            role: decode_text(dict.get(b"Tongban.Role").ok()),
            method: decode_text(dict.get(b"Reason").ok()),
            time,
            signed_at,
            public_key,
            certificate,
            digest: String::new(),
            covers: 0,
            valid: false,
        };
        // [0 a b c]: the signed bytes are [0, a) and [b, b + c); [a, b) must be exactly the
        // hex string holding the signature, so nothing else can hide in the gap.
        if let [0, a, b, c] = range[..] {
            let end = b.checked_add(c);
            let gap_ok = a < b
                && end.is_some_and(|end| end <= pdf.len())
                && pdf[a] == b'<'
                && pdf[b - 1] == b'>'
                && pdf[a + 1..b - 1].iter().all(u8::is_ascii_hexdigit);
            if let (true, Some(end)) = (gap_ok, end) {
                let digest = covered_digest(pdf, a, b, end);
                info.digest = digest.to_hex();
                info.covers = end;
                info.valid = signature
                    .is_some_and(|s| info.public_key.verify(digest.as_bytes(), &s).is_ok());
            }
        }
        signatures.push(info);
    }
    signatures.sort_by_key(|s| s.covers);
    let last = signatures.iter().map(|s| s.covers).max().unwrap_or(0);
    // A file ends with a newline after %%EOF; only real content counts as a change.
    let tail = &pdf[last.min(pdf.len())..];
    let unsigned_tail = if tail.iter().all(u8::is_ascii_whitespace) {
        0
    } else {
        tail.len()
    };
    Ok(Verification {
        signatures,
        unsigned_tail,
    })
}

/// `D:20261123141000+08'00'` → `2026-11-23 14:10:00`.
fn pdf_date(m: &str) -> String {
    let d: String = m.trim_start_matches("D:").chars().take(14).collect();
    if d.len() < 14 || !d.chars().all(|c| c.is_ascii_digit()) {
        return m.to_string();
    }
    format!(
        "{}-{}-{} {}:{}:{}",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[8..10],
        &d[10..12],
        &d[12..14]
    )
}

/// `D:20261123141000+08'00'` → that instant; `None` without a full date and offset.
fn pdf_instant(m: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let d = m.trim_start_matches("D:").replace('\'', "");
    chrono::DateTime::parse_from_str(&d, "%Y%m%d%H%M%S%z")
        .ok()
        .or_else(|| {
            let utc = d.strip_suffix('Z')?;
            let naive = chrono::NaiveDateTime::parse_from_str(utc, "%Y%m%d%H%M%S").ok()?;
            Some(naive.and_utc().fixed_offset())
        })
}

/// SM3 of the whole file, hex: what a case event records of a signed document.
pub fn file_digest(pdf: &[u8]) -> String {
    sm3(pdf).to_hex()
}
