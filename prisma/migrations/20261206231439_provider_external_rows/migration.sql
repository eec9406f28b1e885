-- DropIndex
DROP INDEX "providers_name_key";

-- AlterTable
ALTER TABLE "providers" ADD COLUMN     "external" BOOLEAN NOT NULL DEFAULT false;

-- CreateIndex
CREATE UNIQUE INDEX "providers_name_external_key" ON "providers"("name", "external");

-- Data: external rows were marked in "config" before (`{"$reference": "external"}`).
UPDATE "providers" SET "external" = true, "config" = NULL WHERE "config"->>'$reference' = 'external';
