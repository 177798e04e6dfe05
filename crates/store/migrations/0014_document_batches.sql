-- Batch renders (document_batches and document_batch_items, created in 0012) get a state the
-- officer sees — queued, running, done or failed — and an index for the officer's own list.
-- Progress stays in `done`, which an item bumps only when its digest is first recorded.
ALTER TABLE document_batches ADD COLUMN state TEXT NOT NULL DEFAULT 'queued';
CREATE INDEX document_batches_owner ON document_batches (requested_by, created_at);
