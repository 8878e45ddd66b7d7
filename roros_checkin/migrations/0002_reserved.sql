-- Number 0002 is taken by the audit-hash migration of another branch; this empty file keeps the
-- numbers without a gap here and is replaced by that migration when the branches are merged.
SELECT 1;
