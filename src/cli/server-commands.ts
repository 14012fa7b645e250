import { InvalidArgumentError, type Command } from 'commander';
import { ApiKeys, isRole } from '../auth/api-keys.js';
import { config } from '../core/config.js';
import { GalleryStore } from '../store/gallery-store.js';
import { API_KEY_ROLES, type ApiKeyRole } from '../store/enums.js';
import { openDatabase } from '../store/database.js';
import { announceGallery } from './gallery-location.js';

/** Keys belong to the server's gallery: a missing one is refused, never made empty here. */
async function withKeys<T>(work: (keys: ApiKeys) => Promise<T>): Promise<T> {
  const { databaseUrl } = config();
  announceGallery(databaseUrl, { create: false });
  const database = await openDatabase(databaseUrl);
  try {
    return await work(new ApiKeys(new GalleryStore(database.prisma, { provider: database.provider })));
  } finally {
    await database.close();
  }
}

/** `--role`: the API's spelling (ADMIN) works too; another word is misuse (exit status 2), as for any option. */
function roleOption(value: string): ApiKeyRole {
  const role = value.toLowerCase();
  if (!isRole(role)) throw new InvalidArgumentError(`must be one of ${API_KEY_ROLES.join(', ')}`);
  return role;
}

/**
 * Starts a process, runs it until SIGINT or SIGTERM, then drains (readiness false, in-flight
 * requests and running jobs finish within FACE3D_DRAIN_MS) and closes. The signals are taken
 * before the start: one that comes while it starts (the start-up line may be out and jobs running)
 * is answered once it has started, never by the default action, which kills the process mid-job.
 * Later signals are ignored: under `npm start` one Ctrl-C arrives twice (from the terminal and
 * forwarded by npm), and the drain is bounded anyway.
 */
async function runUntilSignal(name: string, start: () => Promise<{ close(): Promise<void> }>): Promise<void> {
  const ignore = (): void => undefined;
  const signalled = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.stderr.write(`${name}: ${signal}: draining, then closing\n`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.on('SIGINT', ignore);
      process.on('SIGTERM', ignore);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const running = await start();
  await signalled;
  try {
    await running.close();
  } catch (error) {
    process.stderr.write(`${name}: close failed: ${error}\n`);
    process.exit(1);
  }
}

async function serve(): Promise<void> {
  // Loaded here: the server's dependencies would only slow the other commands down.
  const { startServer } = await import('../server.js');
  await runUntilSignal('face3d', () => startServer({ config: config() }));
}

async function work(): Promise<void> {
  const { startWorker } = await import('../service/worker-process.js');
  await runUntilSignal('face3d worker', () => startWorker({ config: config() }));
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the GraphQL API at /graphql (what `npm start` runs)')
    .addHelpText(
      'after',
      '\nEnvironment: DATABASE_URL (file:./data/face3d.db), HOST (0.0.0.0), PORT (4000), FACE3D_ADMIN_KEY (bootstraps an admin key),\n' +
        'FACE3D_DATA_DIR (photos in a folder named after the database), FACE3D_BUSY_TIMEOUT_MS, FACE3D_MAX_IMAGE_BYTES, FACE3D_MAX_UPLOAD_FILES, FACE3D_WORKERS, FACE3D_MESH_THREADS (1), FACE3D_MESH_QUEUE (16), NODE_ENV=production,\n' +
        'FACE3D_DEBUG=1 (stack traces in error responses), FACE3D_METRICS_PORT (/metrics, /healthz, /readyz on a port of their own),\n' +
        'FACE3D_DRAIN_MS (30000: how long SIGTERM waits for requests and jobs), LOG_LEVEL (info). Operating it: docs/OPERATIONS.md.\n' +
        'Example:\n  FACE3D_ADMIN_KEY=$(openssl rand -hex 32) face3d serve',
    )
    .action(serve);

  program
    .command('worker')
    .description('run enrollment jobs from the database queue, without serving the API (scale inference out)')
    .addHelpText(
      'after',
      '\nThe worker and the API servers share DATABASE_URL and FACE3D_DATA_DIR (the photo store). On PostgreSQL each job is\n' +
        'claimed with FOR UPDATE SKIP LOCKED; a job whose worker dies is taken again when its lease (60 s, renewed while it runs)\n' +
        'runs out, up to its attempt limit. FACE3D_WORKERS (4) jobs run at once; FACE3D_DEVICE=cuda puts inference on a GPU.\n' +
        'Examples:\n' +
        '  FACE3D_WORKERS=0 DATABASE_URL=postgres://face3d@db/face3d face3d serve     # API only\n' +
        '  DATABASE_URL=postgres://face3d@db/face3d FACE3D_DEVICE=cuda face3d worker  # on a GPU machine',
    )
    .action(work);

  const keys = program.command('keys').description('manage API keys in the database (works while the server runs)');
  keys
    .command('create')
    .description('create an API key and print it (shown only once)')
    .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`, roleOption)
    .option('--label <label>', 'what the key is for', 'created with face3d keys create')
    .addHelpText('after', '\nExample:\n  face3d keys create --role admin --label "ops laptop"')
    .action(async (options: { role: ApiKeyRole; label: string }) => {
      const { key, record } = await withKeys((repository) => repository.create(options.role, options.label));
      process.stderr.write(`face3d: created ${record.role} key ${record.id} ("${record.label}"); it is not stored, keep it now:\n`);
      process.stdout.write(`${key}\n`);
    });
  keys
    .command('list')
    .description('list API keys (never the keys themselves)')
    .action(async () => {
      for (const record of await withKeys((repository) => repository.list())) {
        const state = record.revokedAt ? `revoked ${record.revokedAt.toISOString()}` : 'active';
        process.stdout.write(`${record.id}\t${record.role}\t${state}\t${record.label}\n`);
      }
    });
  keys
    .command('revoke')
    .description('revoke an API key by id')
    .argument('<id>')
    .action(async (id: string) => {
      if (!(await withKeys((repository) => repository.revoke(id)))) throw new Error(`no active key with id "${id}"`);
      process.stderr.write(`face3d: revoked ${id}\n`);
    });
}
