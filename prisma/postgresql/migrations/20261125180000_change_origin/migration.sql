-- AlterTable
ALTER TABLE "ChangeLog" ADD COLUMN "origin" TEXT;

-- CreateIndex
CREATE INDEX "ChangeLog_createdAt_idx" ON "ChangeLog"("createdAt");
