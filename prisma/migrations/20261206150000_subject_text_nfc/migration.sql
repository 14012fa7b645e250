-- Subject names and externalIds in Unicode NFC, as src/gallery/subject-repository.ts writes them
-- from now on, so that the NFC and NFD forms of one externalId are one subject. nfc() is the
-- function src/store/migrate.ts registers (SQLite has no Unicode normalisation of its own).
-- An externalId whose NFC form another subject already holds keeps its stored form (the two
-- subjects were distinct before and stay so until an operator merges them); of several rows that
-- only this migration would make equal, the one with the smallest id is normalised.
UPDATE "Subject" SET "name" = nfc("name") WHERE "name" <> nfc("name");

UPDATE "Subject" SET "externalId" = nfc("externalId")
WHERE "externalId" IS NOT NULL
  AND "externalId" <> nfc("externalId")
  AND NOT EXISTS (SELECT 1 FROM "Subject" AS "other" WHERE "other"."externalId" = nfc("Subject"."externalId"))
  AND "id" = (SELECT MIN("same"."id") FROM "Subject" AS "same" WHERE nfc("same"."externalId") = nfc("Subject"."externalId"));
