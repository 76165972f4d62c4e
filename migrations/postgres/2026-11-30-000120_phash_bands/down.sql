DROP TABLE phash_bands;
