/**
 * `face3d sample-photos`: photos of made-up people, rendered from the served bundle's own 3DMM, so
 * a first session has faces to enroll and identify without a dataset or anyone's real photos.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { config } from '../core/config.js';
import { bundleDirOf } from '../inference/open-encoder.js';
import { loadBundle } from '../morphable/bundle.js';
import { syntheticPeople } from '../morphable/synthetic-people.js';
import { positiveInteger } from './arguments.js';

/** As many as synthetic-people.ts has names and views. */
const MAX_PEOPLE = 6;
const MAX_PHOTOS = 4;

interface SampleOptions {
  readonly people: number;
  readonly photos: number;
}

export function registerSampleCommand(program: Command): void {
  program
    .command('sample-photos')
    .description("write photos of made-up people, rendered from the 3DMM, one folder per person (as `face3d enroll` reads)")
    .argument('<dir>', 'folder to write them into, e.g. samples')
    .option('--people <n>', `people, 1 to ${MAX_PEOPLE}`, positiveInteger, 2)
    .option('--photos <n>', `photos per person (frontal first, then turned), 1 to ${MAX_PHOTOS}`, positiveInteger, 2)
    .addHelpText('after', '\nThe same people every time: Ada_Synth, Bruno_Synth, ...\nExample:\n  face3d sample-photos samples && face3d enroll samples')
    .action(async (dir: string, options: SampleOptions, command: Command) => {
      if (options.people > MAX_PEOPLE || options.photos > MAX_PHOTOS) command.error(`error: at most ${MAX_PEOPLE} people and ${MAX_PHOTOS} photos each`, { exitCode: 2 });
      const settings = config();
      const bundle = await loadBundle(bundleDirOf(settings.bundles[0], settings.modelsDir));
      for (const person of await syntheticPeople(bundle, options.people, options.photos)) {
        const folder = person.name.replaceAll(' ', '_');
        await mkdir(join(dir, folder), { recursive: true });
        for (const [i, photo] of person.photos.entries()) {
          const file = join(dir, folder, `${folder}_${String(i + 1).padStart(4, '0')}.jpg`);
          await writeFile(file, photo);
          process.stdout.write(`${file}\n`);
        }
      }
    });
}
