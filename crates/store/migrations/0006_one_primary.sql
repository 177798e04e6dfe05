-- At most one live primary certificate and one pending activation request per enterprise,
-- enforced by the store so that two simultaneous requests cannot both pass the service's check.
CREATE UNIQUE INDEX certificates_one_primary ON certificates (enterprise_id)
    WHERE role = 'primary' AND revoked_at IS NULL;
CREATE UNIQUE INDEX primary_activations_one_pending ON primary_activations (enterprise_id)
    WHERE state = 'submitted';
