#!/bin/sh
# Stand-in for Prisma's schema engine, which cannot be downloaded here. `prisma generate` only
# checks that PRISMA_SCHEMA_ENGINE_BINARY names an existing file and never runs it; any command
# that does run it (migrate, db push, diff) fails loudly here instead of doing something wrong.
echo "Prisma's schema engine is not installed: migrations are applied by src/store/migrate.ts at start-up" >&2
exit 1
