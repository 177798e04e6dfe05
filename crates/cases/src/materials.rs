//! 申请材料: files attached to a draft, checked by content against the item's materials, stored
//! once by SM3 in the file store, each attach and removal an event of the case.
use bytes::Bytes;
use tongban_domain::Timestamp;
use tongban_domain::file_kind::FileKind;
use tongban_engine::case::EventBody;
use tongban_engine::materials::{check, check_extra};
use tongban_engine::{FormData, Item, Problem};
use tongban_files::FileStore;
use tongban_store::Store;
use tongban_store::cases::{self as repo, MaterialRow};

use crate::{Applicant, CaseError, append_material_in, open};

/// The material id under which applicant-added files (“+”) are kept.
pub const EXTRA: &str = "extra";

/// What a file is for: one of the item's materials, or one the applicant names.
pub enum Target<'a> {
    Material(&'a str),
    Extra { name: &'a str },
}

fn invalid(field: &str, message: String) -> CaseError {
    CaseError::Invalid(vec![Problem {
        field: format!("material:{field}"),
        message,
    }])
}

/// Attaches `bytes` (uploaded as `file_name`) to the applicant's draft `id`. A material that
/// takes one file has its previous file replaced.
#[allow(clippy::too_many_arguments)]
pub async fn attach(
    store: &Store,
    files: &FileStore,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    target: Target<'_>,
    file_name: &str,
    bytes: Bytes,
) -> Result<MaterialRow, CaseError> {
    let file_name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .take(120)
        .collect::<String>();
    let (material_id, name, kind, replaces) = match target {
        Target::Material(m) => {
            let spec = item
                .materials
                .iter()
                .find(|x| x.id == m)
                .ok_or(CaseError::NotFound)?;
            let kind = check(spec, &file_name, &bytes).map_err(|e| invalid(m, e))?;
            (m.to_string(), spec.name.clone(), kind, !spec.multiple)
        }
        Target::Extra { name } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 50 {
                return Err(invalid(EXTRA, "材料名称：请填写，不超过50个字".into()));
            }
            let kind = check_extra(name, &file_name, &bytes).map_err(|e| invalid(EXTRA, e))?;
            (EXTRA.to_string(), name.to_string(), kind, false)
        }
    };
    let size = bytes.len() as i64;
    let stored = files
        .put(bytes)
        .await
        .map_err(|e| tongban_store::StoreError::InvalidRow(format!("file store: {e}")))?;
    let row = MaterialRow {
        id: uuid::Uuid::now_v7().to_string(),
        case_id: id.to_string(),
        material_id: material_id.clone(),
        name: name.clone(),
        file_name: file_name.clone(),
        file_kind: kind.code().to_string(),
        size,
        digest: stored.digest.to_hex(),
        uploaded_at: Timestamp::now().millis(),
    };
    let mut tx = store.begin().await?;
    append_material_in(
        &mut tx,
        store,
        item,
        applicant,
        id,
        &material_id,
        EventBody::MaterialAttached {
            material: material_id.clone(),
            name,
            file_name,
            digest: row.digest.clone(),
        },
    )
    .await?;
    if replaces {
        repo::remove_material_files(&mut tx, id, &material_id).await?;
    }
    repo::insert_material(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(row)
}

/// Takes file `file_id` off the applicant's draft `id`.
pub async fn remove(
    store: &Store,
    item: &Item,
    applicant: &Applicant,
    id: &str,
    file_id: &str,
) -> Result<(), CaseError> {
    let file = repo::materials(store, id)
        .await?
        .into_iter()
        .find(|m| m.id == file_id)
        .ok_or(CaseError::NotFound)?;
    let mut tx = store.begin().await?;
    append_material_in(
        &mut tx,
        store,
        item,
        applicant,
        id,
        &file.material_id,
        EventBody::MaterialRemoved {
            material: file.material_id.clone(),
            file_name: file.file_name.clone(),
        },
    )
    .await?;
    if !repo::remove_material(&mut tx, id, file_id).await? {
        return Err(CaseError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// The files of the applicant's case `id`.
pub async fn list(
    store: &Store,
    applicant: &Applicant,
    id: &str,
) -> Result<Vec<MaterialRow>, CaseError> {
    open(store, applicant, id).await?;
    Ok(repo::materials(store, id).await?)
}

/// One file of the applicant's case, with its bytes and kind.
pub async fn download(
    store: &Store,
    files: &FileStore,
    applicant: &Applicant,
    id: &str,
    file_id: &str,
) -> Result<(MaterialRow, FileKind, Bytes), CaseError> {
    let file = list(store, applicant, id)
        .await?
        .into_iter()
        .find(|m| m.id == file_id)
        .ok_or(CaseError::NotFound)?;
    let digest = file
        .digest
        .parse::<tongban_crypto::Sm3Digest>()
        .map_err(|e| tongban_store::StoreError::InvalidRow(format!("material digest: {e}")))?;
    let bytes = files
        .get(&digest)
        .await
        .map_err(|e| tongban_store::StoreError::InvalidRow(format!("file store: {e}")))?;
    let kind = FileKind::from_code(&file.file_kind);
    Ok((file, kind, bytes))
}

/// Required materials without a file, for the form as shown (`shown(item, data).effective`,
/// which the caller has worked out for its own checks too).
pub fn missing(item: &Item, effective: &FormData, attached: &[MaterialRow]) -> Vec<Problem> {
    item.materials
        .iter()
        .filter(|m| m.required && m.show_if.as_ref().is_none_or(|c| c.holds(effective)))
        .filter(|m| !attached.iter().any(|a| a.material_id == m.id))
        .map(|m| Problem {
            field: format!("material:{}", m.id),
            message: format!("{}：请上传", m.name),
        })
        .collect()
}
