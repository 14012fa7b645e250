-- CreateTable
CREATE TABLE "GalleryIdentity" (
    "id" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "GalleryIdentity_pkey" PRIMARY KEY ("id")
);

-- The gallery's id, made once here so every process of the gallery reads the same one.
INSERT INTO "GalleryIdentity" ("id") VALUES (replace(gen_random_uuid()::text, '-', ''));
