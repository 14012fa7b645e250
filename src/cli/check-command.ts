/** `face3d check [--repair] [--json]`: whether the local gallery is whole (src/gallery/gallery-check.ts). */
import type { Command } from 'commander';
import { loadConfig } from '../core/config.js';
import { checkGallery, describeCheck } from '../gallery/gallery-check.js';
import { openDatabase, redactUrl } from '../store/database.js';
import { jsonAware } from './arguments.js';
import { announceGallery } from './gallery-location.js';
import { printJsonLine } from './output.js';

interface CheckOptions {
  readonly database?: string;
  readonly repair: boolean;
  readonly json?: boolean;
}

async function check(options: CheckOptions): Promise<void> {
  const settings = loadConfig({ ...process.env, ...(options.database && { DATABASE_URL: options.database }) });
  announceGallery(settings.databaseUrl, { create: false });
  const database = await openDatabase(settings.databaseUrl, { busyTimeoutMs: settings.busyTimeoutMs });
  let report;
  try {
    report = await checkGallery(database, settings, { repair: options.repair });
  } finally {
    await database.close();
  }
  if (options.json) printJsonLine(report);
  else process.stdout.write(`face3d check of ${redactUrl(settings.databaseUrl)}\n${describeCheck(report)}\n`);
  // Set after closing: PGlite's runtime resets the exit code when it shuts down.
  process.exitCode = report.problems.length === 0 ? 0 : 1;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('verify a gallery: database integrity, every photo file present and matching its SHA-256, vectors, stuck jobs; exit 1 when something is wrong')
    .option('--database <url>', 'the gallery to check (default: DATABASE_URL)')
    .option('--repair', 'fix what is safe: requeue stuck jobs, remove unused files this gallery wrote, mark photos whose file is gone PHOTO_MISSING/PHOTO_CORRUPT', false)
    .option('--json', 'print the report as one JSON object')
    .addHelpText(
      'after',
      '\nReads DATABASE_URL (or --database) and FACE3D_DATA_DIR like `face3d serve`; safe while the server runs.\n' +
        '--repair never deletes a photo or a row: a missing or damaged file can only come back from a backup (face3d restore).\n' +
        'Example:\n  DATABASE_URL=file:./data/face3d.db face3d check --repair',
    )
    .action(jsonAware(check));
}
