-- AlterTable
ALTER TABLE "Photo" ADD COLUMN     "qualityFilter" TEXT NOT NULL DEFAULT 'AUTO',
ADD COLUMN     "qualityScore" DOUBLE PRECISION,
ADD COLUMN     "qualityIssues" TEXT;
