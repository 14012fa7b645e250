/**
 * Writes an identification list (TSV: image, role, subject) from a folder-per-person dataset: for
 * each person with at least --min-photos photos, the first --gallery photos are the gallery and the
 * next ones (up to --max-photos in all) are probes.
 *   node dist/tools/eval/identify-list.js --root ../shared/datasets/lfw/dev > identify-dev.tsv
 */
import { parseArgs } from 'node:util';
import { listPeople } from '../../src/dataset/folder-dataset.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    'min-photos': { type: 'string', default: '4' },
    'max-photos': { type: 'string', default: '4' },
    gallery: { type: 'string', default: '1' },
  },
});
if (!values.root) throw new Error('--root <dataset dir> is required');
const gallery = Number(values.gallery);
const lines = ['image\trole\tsubject'];
for (const person of await listPeople(values.root)) {
  if (person.images.length < Number(values['min-photos'])) continue;
  person.images.slice(0, Number(values['max-photos'])).forEach((image, i) => lines.push(`${image}\t${i < gallery ? 'gallery' : 'probe'}\t${person.name}`));
}
process.stdout.write(`${lines.join('\n')}\n`);
