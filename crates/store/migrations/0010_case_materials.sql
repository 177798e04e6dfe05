-- Files attached to a case (申请材料): the spec's materials by id, and the applicant's own
-- additions ("+", material_id 'extra') under the name they gave. The bytes live in the file store
-- under their SM3 digest; identical uploads are stored once.
CREATE TABLE case_materials (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    material_id TEXT NOT NULL,
    name TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    digest TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX case_materials_case ON case_materials (case_id, uploaded_at);
