-- AlterTable
ALTER TABLE "Photo" ADD COLUMN "faceBox" JSONB;
