/**
 * FolderNames (analysis/folderNames.ts): the names a log being checked reads of its folder, each
 * folder listed once while its logs are checked, in whatever order discovery gives them.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FolderNames } from '../src/analysis/folderNames';

/** A file system of folders -> names that counts its listings; a folder not in it cannot be listed. */
function folders(tree: Record<string, string[]>): { list: (folder: string) => Promise<readonly string[]>; listed: string[] } {
  const listed: string[] = [];
  const list = (folder: string): Promise<readonly string[]> => {
    listed.push(folder);
    const names = tree[folder];
    return names === undefined ? Promise.reject(Object.assign(new Error(`EACCES: ${folder}`), { code: 'EACCES' })) : Promise.resolve(names);
  };
  return { list, listed };
}

describe('FolderNames', () => {
  it("lists a folder once while its logs are checked, also when a subfolder's logs come between them (discovery's name order)", async () => {
    const { list, listed } = folders({ '/logs': ['events_1_a', 'events_1_b', 'events_1_b-more', 'events_1_c'], '/logs/events_1_b-more': ['events_1_z'] });
    const names = new FolderNames(list);
    for (const file of ['/logs/events_1_a', '/logs/events_1_b', '/logs/events_1_b-more/events_1_z', '/logs/events_1_c']) expect(await names.siblingsOf(file)).toEqual([path.basename(file)]);
    expect(listed).toEqual(['/logs', '/logs/events_1_b-more']);
  });

  it('does not list the folder of a whole log: it reads none of its names', async () => {
    const { list, listed } = folders({ '/logs': ['app-1', 'local-2.lz4', 'EVENT_LOG_1'] });
    const names = new FolderNames(list);
    for (const file of ['/logs/app-1', '/logs/local-2.lz4', '/logs/EVENT_LOG_1']) expect(await names.siblingsOf(file)).toEqual([]);
    expect(listed).toEqual([]);
  });

  it("gives a log its group of its folder's names: a rolling part its application's parts and an appstatus file, a Databricks part the others", async () => {
    const { list } = folders({ '/r': ['events_1_a', 'events_2_a.compact', 'events_3_a', 'events_1_b', 'appstatus_a', 'app-5'], '/d': ['eventlog', 'eventlog-2024-01-01--10-00.gz', 'other'] });
    const names = new FolderNames(list);
    expect(await names.siblingsOf('/r/events_3_a')).toEqual(['events_1_a', 'events_2_a.compact', 'events_3_a', 'appstatus_a']);
    expect(await names.siblingsOf('/r/events_1_b')).toEqual(['events_1_b', 'appstatus_a']);
    expect(await names.siblingsOf('/r/app-5')).toEqual([]);
    expect(await names.siblingsOf('/d/eventlog')).toEqual(['eventlog', 'eventlog-2024-01-01--10-00.gz']);
  });

  it('keeps the last 16 folders: a 17th pushes out the one used longest ago', async () => {
    const tree = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`/f${i}`, [`events_1_app-${i}`]]));
    const { list, listed } = folders(tree);
    const names = new FolderNames(list);
    for (let i = 0; i < 17; i++) await names.siblingsOf(`/f${i}/events_1_app-${i}`);
    await names.siblingsOf('/f16/events_1_app-16');
    await names.siblingsOf('/f1/events_1_app-1');
    await names.siblingsOf('/f0/events_1_app-0');
    expect(listed).toEqual([...Array.from({ length: 17 }, (_, i) => `/f${i}`), '/f0']);
  });

  it('a folder that cannot be listed gives no names (the log is still checked, without them), and is tried again for its next log', async () => {
    const { list, listed } = folders({});
    const names = new FolderNames(list);
    expect(await names.siblingsOf('/locked/events_1_app')).toBeUndefined();
    expect(await names.siblingsOf('/locked/events_2_app')).toBeUndefined();
    expect(listed).toEqual(['/locked', '/locked']);
  });
});
