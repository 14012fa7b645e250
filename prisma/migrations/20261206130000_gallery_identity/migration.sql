-- CreateTable
CREATE TABLE "GalleryIdentity" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The gallery's id, made once here so every process of the gallery reads the same one.
INSERT INTO "GalleryIdentity" ("id") VALUES (lower(hex(randomblob(16))));
