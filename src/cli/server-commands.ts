import type { Command } from 'commander';
import { ApiKeyRepository, isRole } from '../auth/api-keys.js';
import { config } from '../config.js';
import { GalleryStore } from '../gallery/store.js';
import { API_KEY_ROLES } from '../store/enums.js';
import { openDatabase } from '../store/database.js';

async function withKeys<T>(work: (keys: ApiKeyRepository) => Promise<T>): Promise<T> {
  const database = await openDatabase(config().databaseUrl);
  try {
    return await work(new ApiKeyRepository(new GalleryStore(database.prisma)));
  } finally {
    await database.close();
  }
}

async function serve(): Promise<void> {
  // Loaded here: the server's dependencies would only slow the other commands down.
  const { startServer } = await import('../server.js');
  const server = await startServer({ config: config() });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.stderr.write(`face3d: ${signal}: finishing running jobs and closing\n`);
      server.close().then(resolve, (error: unknown) => {
        process.stderr.write(`face3d: close failed: ${error}\n`);
        process.exit(1);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the GraphQL API at /graphql (what `npm start` runs)')
    .addHelpText(
      'after',
      '\nEnvironment: DATABASE_URL (file:./data/face3d.db), HOST (0.0.0.0), PORT (4000), FACE3D_ADMIN_KEY (bootstraps an admin key),\n' +
        'FACE3D_DATA_DIR (photos next to the database), FACE3D_MAX_IMAGE_BYTES, FACE3D_MAX_UPLOAD_FILES, FACE3D_WORKERS, NODE_ENV=production.\n' +
        'Example:\n  FACE3D_ADMIN_KEY=$(openssl rand -hex 32) face3d serve',
    )
    .action(serve);

  const keys = program.command('keys').description('manage API keys in the database (works while the server runs)');
  keys
    .command('create')
    .description('create an API key and print it (shown only once)')
    .requiredOption('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`)
    .option('--label <label>', 'what the key is for', 'created with face3d keys create')
    .addHelpText('after', '\nExample:\n  face3d keys create --role admin --label "ops laptop"')
    .action(async (options: { role: string; label: string }) => {
      if (!isRole(options.role)) throw new Error(`--role must be one of ${API_KEY_ROLES.join(', ')}, got "${options.role}"`);
      const role = options.role;
      const { key, record } = await withKeys((repository) => repository.create(role, options.label));
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
