-- Number 0003 is taken by the case-work migration of another branch; this empty file keeps the
-- numbers without a gap here and is replaced by that migration when the branches are merged.
SELECT 1;
