/** `face3d enroll <dir>`: a folder of people into the gallery, local or on a server. */
import type { Command } from 'commander';
import { config } from '../core/config.js';
import { jsonAware, positiveInteger, remoteGallery, withServerOptions, type ServerOptions } from './arguments.js';
import { closingAfter } from './gallery-client.js';
import { LocalGallery } from './local-gallery.js';
import { enrollFolder, listFolderPhotos, type EnrollSummary } from './enroll-folder.js';
import { printJsonLine } from './output.js';
import { progressReporter } from './progress.js';

interface EnrollOptions extends ServerOptions {
  readonly concurrency: number;
  readonly limit?: number;
  readonly wait: boolean;
  readonly waitTimeout?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** The listing stops here; --json always has every failure. */
const FAILURES_SHOWN = 50;

export function describeSummary(summary: EnrollSummary): string {
  const { photos, subjects } = summary;
  const lines = [
    `${photos.found} photos of ${subjects.seen} subjects (${subjects.created} new): ${photos.uploaded} uploaded, ${photos.skipped} already enrolled, ${photos.notAttempted} left by --limit`,
    `${photos.ready} ready, ${photos.failed} failed, ${photos.pending} pending (${summary.seconds.toFixed(1)} s)`,
  ];
  const skippedFailed = summary.skippedByStatus.FAILED;
  if (skippedFailed) lines.push(`${skippedFailed} of the photos already enrolled had failed before and were not retried`);
  if (photos.failed > 0) {
    lines.push('failures by code:', ...Object.entries(summary.failuresByCode).map(([code, count]) => `  ${code.padEnd(18)} ${count}`));
    lines.push(...summary.failures.slice(0, FAILURES_SHOWN).map((failure) => `  ${failure.file}: ${failure.code}: ${failure.message}`));
    if (summary.failures.length > FAILURES_SHOWN) lines.push(`  ... and ${summary.failures.length - FAILURES_SHOWN} more (see --json)`);
  }
  return lines.join('\n');
}

export function registerEnrollCommand(program: Command): void {
  withServerOptions(program.command('enroll'))
    .description('enroll a folder of people (<dir>/<Person>/<photos>, as LFW): one subject per folder, matched by externalId or name, created when missing')
    .argument('<dir>', 'folder with one sub-folder of photos per person')
    .option('--concurrency <n>', 'photos read and uploaded at once; locally also the enrollment workers', positiveInteger, 4)
    .option('--limit <n>', 'upload at most n new photos (already enrolled ones do not count)', positiveInteger)
    .option('--no-wait', 'return once uploaded, without waiting for the photos to be READY or FAILED')
    .option('--wait-timeout <seconds>', 'stop waiting after this long; the rest are reported as pending', positiveInteger)
    .option('--json', 'print the summary as one JSON object')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      '\nRuns again over the same folder skip the photos already enrolled (same file bytes, SHA-256), so an\n' +
        'interrupted run is resumed by starting it again. Exit status: 0 when every photo was enrolled,\n' +
        '1 when any failed (summarised by error code), 2 on misuse.\n' +
        'Without --server the gallery is the local database (DATABASE_URL, FACE3D_DATA_DIR), opened as\n' +
        '`face3d serve` does, enrollment workers included. With SQLite, do not run it on a database a server\n' +
        'is using (its start-up repair would requeue the server\'s running jobs): use --server then.\n' +
        '\nExamples:\n' +
        '  face3d enroll ../shared/datasets/lfw/dev --limit 100\n' +
        '  face3d enroll photos/ --server http://localhost:4000 --key $FACE3D_API_KEY --concurrency 8\n' +
        '  face3d enroll photos/ --json --no-wait > summary.json',
    )
    .action(
      jsonAware(async (dir: string, options: EnrollOptions, command: Command) => {
        const remote = remoteGallery(command, options);
        const photos = await listFolderPhotos(dir);
        const gallery = remote ?? (await LocalGallery.open('enroll', { ...config(), workers: options.concurrency }));
        const settings = { concurrency: options.concurrency, limit: options.limit, wait: options.wait, waitTimeoutMs: options.waitTimeout && options.waitTimeout * 1000 };
        const summary = await closingAfter(gallery, () => enrollFolder(gallery, dir, photos, settings, progressReporter({ quiet: options.quiet })));
        if (options.json) printJsonLine(summary);
        else process.stdout.write(`${describeSummary(summary)}\n`);
        if (summary.photos.failed > 0) process.exitCode = 1;
      }),
    );
}
