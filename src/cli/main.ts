#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerFaceCommands } from './face-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerEvalCommands } from './eval-commands.js';
import { registerImportCommands } from './import-commands.js';
import { registerEnrollCommand } from './enroll-command.js';
import { registerGalleryCommands } from './gallery-commands.js';
import { registerBackupCommands } from './backup-commands.js';

const program = new Command();
program
  .name('face3d')
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
