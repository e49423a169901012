/**
 * FolderNames (analysis/folderNames.ts): the names a log being checked reads of its folder, each
 * folder listed once while its logs are checked, in whatever order discovery gives them.
 */
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
    const { list, listed } = folders({ '/logs': ['app-1', 'app-2', 'app-2-more', 'app-3'], '/logs/app-2-more': ['app-9'] });
    const names = new FolderNames(list);
    for (const file of ['/logs/app-1', '/logs/app-2', '/logs/app-2-more/app-9', '/logs/app-3']) expect(await names.siblingsOf(file)).toEqual([]);
    expect(listed).toEqual(['/logs', '/logs/app-2-more']);
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
    const tree = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`/f${i}`, [`app-${i}`]]));
    const { list, listed } = folders(tree);
    const names = new FolderNames(list);
    for (let i = 0; i < 17; i++) await names.siblingsOf(`/f${i}/app-${i}`);
    await names.siblingsOf('/f16/app-16');
    await names.siblingsOf('/f1/app-1');
    await names.siblingsOf('/f0/app-0');
    expect(listed).toEqual([...Array.from({ length: 17 }, (_, i) => `/f${i}`), '/f0']);
  });

  it('a folder that cannot be listed gives no names (the log is still checked, without them), and is tried again for its next log', async () => {
    const { list, listed } = folders({});
    const names = new FolderNames(list);
    expect(await names.siblingsOf('/locked/app-1')).toBeUndefined();
    expect(await names.siblingsOf('/locked/app-2')).toBeUndefined();
    expect(listed).toEqual(['/locked', '/locked']);
  });
});
