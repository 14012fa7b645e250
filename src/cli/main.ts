#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { findPackageRoot } from '../core/config.js';
import { isFace3dError } from '../core/errors.js';
import { registerFaceCommands } from './face-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerEvalCommands } from './eval-commands.js';
import { registerImportCommands } from './import-commands.js';
import { registerEnrollCommand } from './enroll-command.js';
import { registerGalleryCommands } from './gallery-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerSampleCommand } from './sample-command.js';
import { registerCheckCommand } from './check-command.js';

// A reader that stops early (`face3d subjects export | head`) is no failure of ours: stop quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const { version } = JSON.parse(readFileSync(join(findPackageRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command();
program
  .name('face3d')
  .version(version, '-V, --version', 'print the version of face3d')
  .description('Face photos to 3D Morphable Model vectors, a gallery, and identification by 3D shape')
  .showHelpAfterError()
  .exitOverride();

registerFaceCommands(program);
registerServerCommands(program);
registerEvalCommands(program);
registerImportCommands(program);
registerEnrollCommand(program);
registerGalleryCommands(program);
registerBackupCommands(program);
registerSampleCommand(program);
registerCheckCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  if (isFace3dError(error)) console.error(`face3d: ${error.code}: ${error.message}`);
  else console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
