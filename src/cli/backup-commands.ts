import type { Command } from 'commander';
import { createBackup, galleryLocation, restoreBackup } from '../backup/backup.js';
import { config } from '../core/config.js';
import { announceGallery } from './gallery-location.js';

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent backup of the gallery (database snapshot and the photo files it references) to one tar file; safe while the server runs')
    .argument('<file>', 'the archive to write, e.g. face3d-2026-11-25.tar')
    .addHelpText(
      'after',
      '\nReads DATABASE_URL and FACE3D_DATA_DIR like `face3d serve`. SQLite is copied with VACUUM INTO; PostgreSQL with\n' +
        'pg_dump --format=custom (pg_dump must be on PATH). Restore with `face3d restore <file>`.\n' +
        'Example:\n  DATABASE_URL=file:./data/face3d.db face3d backup backups/face3d.tar',
    )
    .action(async (file: string) => {
      announceGallery(config().databaseUrl, { create: false });
      const summary = await createBackup(galleryLocation(config()), file);
      process.stderr.write(`face3d: backed up the ${summary.database} gallery and ${summary.photos} photos to ${file}\n`);
    });

  program
    .command('restore')
    .description('restore a `face3d backup` archive into DATABASE_URL and FACE3D_DATA_DIR')
    .argument('<file>', 'an archive written by face3d backup')
    .option('--force', 'replace an existing SQLite database file (stop the server first)', false)
    .addHelpText(
      'after',
      '\nPhotos are written (and checked against their SHA-256 names) before the database, which is written last.\n' +
        'SQLite: the database file must not exist unless --force. PostgreSQL: pg_restore --clean into the database.\n' +
        'Example:\n  DATABASE_URL=file:./restored/face3d.db FACE3D_DATA_DIR=./restored/photos face3d restore backups/face3d.tar',
    )
    .action(async (file: string, options: { force: boolean }) => {
      announceGallery(config().databaseUrl, { create: true });
      const manifest = await restoreBackup(file, galleryLocation(config()), { force: options.force });
      process.stderr.write(`face3d: restored the ${manifest.database} gallery of ${manifest.createdAt} and ${manifest.photos} photos from ${file}\n`);
    });
}
