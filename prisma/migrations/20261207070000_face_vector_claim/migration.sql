-- CreateTable
CREATE TABLE "FaceVectorClaim" (
    "faceId" TEXT NOT NULL,
    "bundleId" TEXT NOT NULL,
    "leaseUntil" DATETIME NOT NULL,
    CONSTRAINT "FaceVectorClaim_pkey" PRIMARY KEY ("faceId", "bundleId"),
    CONSTRAINT "FaceVectorClaim_faceId_fkey" FOREIGN KEY ("faceId") REFERENCES "Face" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
