-- Subject names and externalIds in Unicode NFC, as src/gallery/subject-repository.ts writes them
-- from now on, so that the NFC and NFD forms of one externalId are one subject.
-- An externalId whose NFC form another subject already holds keeps its stored form (the two
-- subjects were distinct before and stay so until an operator merges them); of several rows that
-- only this migration would make equal, the one with the smallest id is normalised.
UPDATE "Subject" SET "name" = normalize("name", NFC) WHERE "name" IS NOT NFC NORMALIZED;

UPDATE "Subject" AS "s" SET "externalId" = normalize("s"."externalId", NFC)
WHERE "s"."externalId" IS NOT NFC NORMALIZED
  AND NOT EXISTS (SELECT 1 FROM "Subject" AS "other" WHERE "other"."externalId" = normalize("s"."externalId", NFC))
  AND "s"."id" = (SELECT MIN("same"."id") FROM "Subject" AS "same" WHERE normalize("same"."externalId", NFC) = normalize("s"."externalId", NFC));
