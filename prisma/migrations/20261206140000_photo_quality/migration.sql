-- AlterTable
ALTER TABLE "Photo" ADD COLUMN "qualityFilter" TEXT NOT NULL DEFAULT 'AUTO';
ALTER TABLE "Photo" ADD COLUMN "qualityScore" REAL;
ALTER TABLE "Photo" ADD COLUMN "qualityIssues" TEXT;
