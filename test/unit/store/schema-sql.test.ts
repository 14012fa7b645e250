import { describe, expect, it } from '@jest/globals';
import BetterSqlite3 from 'better-sqlite3';
import type { DmmfDatamodel, DmmfField, DmmfModel } from '../../../src/store/dmmf.js';
import { schemaSql } from '../../../src/store/schema-sql.js';

function scalar(name: string, type: string, extra: Partial<DmmfField> = {}): DmmfField {
  return { name, kind: 'scalar', type, isList: false, isRequired: true, isId: false, nativeType: null, ...extra };
}

function relation(name: string, target: string, from: string[], extra: Partial<DmmfField> = {}): DmmfField {
  return {
    ...scalar(name, target),
    kind: 'object',
    relationName: `${name}Relation`,
    relationFromFields: from,
    relationToFields: ['id'],
    ...extra,
  };
}

function model(name: string, fields: DmmfField[], primaryKey: DmmfModel['primaryKey'] = null): DmmfModel {
  return { name, dbName: null, fields, primaryKey };
}

describe('schemaSql (sqlite)', () => {
  const owner = model('Owner', [scalar('id', 'Int', { isId: true, default: { name: 'autoincrement', args: [] } })]);

  it('writes composite primary keys as a named constraint', () => {
    const pair = model('Pair', [scalar('a', 'String'), scalar('b', 'String')], { name: null, fields: ['a', 'b'] });

    const sql = schemaSql({ models: [pair], enums: [], indexes: [] }, 'sqlite');

    expect(sql).toContain('"a" TEXT NOT NULL,\n    "b" TEXT NOT NULL,\n    CONSTRAINT "Pair_pkey" PRIMARY KEY ("a", "b")');
  });

  it('uses Prisma’s default referential actions when the schema names none', () => {
    const pet = model('Pet', [
      scalar('id', 'String', { isId: true }),
      scalar('ownerId', 'Int'),
      relation('owner', 'Owner', ['ownerId']),
      scalar('sitterId', 'Int', { isRequired: false }),
      relation('sitter', 'Owner', ['sitterId'], { isRequired: false }),
    ]);

    const sql = schemaSql({ models: [owner, pet], enums: [], indexes: [] }, 'sqlite');

    expect(sql).toContain('"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT');
    expect(sql).toContain(
      'CONSTRAINT "Pet_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "Owner" ("id") ON DELETE RESTRICT ON UPDATE CASCADE',
    );
    expect(sql).toContain(
      'CONSTRAINT "Pet_sitterId_fkey" FOREIGN KEY ("sitterId") REFERENCES "Owner" ("id") ON DELETE SET NULL ON UPDATE CASCADE',
    );
  });

  it('writes literal and now() defaults, honours @map names and leaves cuid() to the client', () => {
    const thing = model('Thing', [
      scalar('id', 'String', { isId: true, default: { name: 'cuid', args: [1] } }),
      scalar('label', 'String', { dbName: 'the_label', default: "it's" }),
      scalar('done', 'Boolean', { default: false }),
      scalar('at', 'DateTime', { default: { name: 'now', args: [] } }),
    ]);

    const sql = schemaSql(
      {
        models: [thing],
        enums: [],
        indexes: [{ model: 'Thing', type: 'unique', fields: [{ name: 'label' }] }],
      },
      'sqlite',
    );

    expect(sql).toContain('"id" TEXT NOT NULL PRIMARY KEY,\n');
    expect(sql).toContain(`"the_label" TEXT NOT NULL DEFAULT 'it''s'`);
    expect(sql).toContain('"done" BOOLEAN NOT NULL DEFAULT false');
    expect(sql).toContain('"at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP');
    expect(sql).toContain('CREATE UNIQUE INDEX "Thing_the_label_key" ON "Thing"("the_label");');
  });

  it('produces SQL that SQLite accepts', () => {
    const pet = model('Pet', [
      scalar('id', 'String', { isId: true }),
      scalar('ownerId', 'Int'),
      relation('owner', 'Owner', ['ownerId']),
    ]);
    const datamodel: DmmfDatamodel = {
      models: [owner, pet],
      enums: [],
      indexes: [{ model: 'Pet', type: 'normal', fields: [{ name: 'ownerId' }] }],
    };
    const db = new BetterSqlite3(':memory:');
    try {
      db.exec(schemaSql(datamodel, 'sqlite'));
      expect(db.pragma('index_list("Pet")')).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'Pet_ownerId_idx', unique: 0 })]),
      );
    } finally {
      db.close();
    }
  });

  it('rejects what it cannot express on SQLite', () => {
    expect(() => schemaSql({ models: [owner], enums: [{ name: 'Mood' }], indexes: [] }, 'sqlite')).toThrow(/enums/);
    const tagged = model('Tagged', [scalar('id', 'String', { isId: true }), scalar('tags', 'String', { isList: true })]);
    expect(() => schemaSql({ models: [tagged], enums: [], indexes: [] }, 'sqlite')).toThrow(/Tagged.tags: scalar lists/);
    const manyToMany = { isList: true, relationName: 'AToB' };
    const a = model('A', [scalar('id', 'String', { isId: true }), relation('bs', 'B', [], manyToMany)]);
    const b = model('B', [scalar('id', 'String', { isId: true }), relation('as', 'A', [], manyToMany)]);
    expect(() => schemaSql({ models: [a, b], enums: [], indexes: [] }, 'sqlite')).toThrow(/AToB/);
  });
});
