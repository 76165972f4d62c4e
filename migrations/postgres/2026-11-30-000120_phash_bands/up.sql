-- Photos' perceptual hashes (dHash, 64 bits), split into four 16-bit bands, each indexed, so
-- that finding the earlier photos within the similarity threshold (10 differing bits) reads a
-- few index entries instead of every photo's hash: two hashes within 10 bits agree to within
-- 2 bits in at least one band (pigeonhole: 4 bands x 3 bits = 12 > 10), so the candidates are
-- the photos whose band k is within 2 bits of this photo's band k for some k (137 values per
-- band), then checked bit by bit (store::photo_jobs::finish_done).
CREATE TABLE phash_bands (
    attachment_id TEXT PRIMARY KEY NOT NULL,
    b0            INTEGER NOT NULL,
    b1            INTEGER NOT NULL,
    b2            INTEGER NOT NULL,
    b3            INTEGER NOT NULL
);
CREATE INDEX phash_bands_b0 ON phash_bands (b0);
CREATE INDEX phash_bands_b1 ON phash_bands (b1);
CREATE INDEX phash_bands_b2 ON phash_bands (b2);
CREATE INDEX phash_bands_b3 ON phash_bands (b3);

-- The photos already hashed (16 lower-case hex digits).
INSERT INTO phash_bands (attachment_id, b0, b1, b2, b3)
SELECT id,
       ('x' || substr(phash, 1, 4))::bit(16)::int,
       ('x' || substr(phash, 5, 4))::bit(16)::int,
       ('x' || substr(phash, 9, 4))::bit(16)::int,
       ('x' || substr(phash, 13, 4))::bit(16)::int
FROM attachments
WHERE phash IS NOT NULL AND length(phash) = 16;
