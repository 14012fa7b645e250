-- AlterTable
ALTER TABLE "ChangeLog" ADD COLUMN "photoStatus" TEXT;
