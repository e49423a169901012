/**
 * The names a log being checked reads of its folder (eventLogAnalyzer.ts siblingsFor), for runs that
 * check many logs one after another: `validate` and the editor's check of logs on disk. Each folder
 * is listed and indexed once, not once per log: a folder of 10,000 small logs was 10,000 listings of
 * 10,000 names, each looked through again by the analyzer (validate: 74 s, against 3 s to collect
 * the same logs; issue #12).
 */
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { folderIndex, readsFolderNames, siblingsFor, type FolderIndex } from './eventLogAnalyzer';

/**
 * Folders whose index is kept, the least recently used dropped first. Discovery walks depth first with
 * a folder's entries in name order, so a folder's logs can come on both sides of its subfolders: a
 * folder is listed again only when more than 15 others were read in between.
 */
const FOLDERS_KEPT = 16;

export class FolderNames {
  /** Folder -> its index (undefined: it could not be listed), the last used last. */
  private readonly folders = new Map<string, Promise<FolderIndex | undefined>>();

  constructor(private readonly list: (folder: string) => Promise<readonly string[]> = (folder) => readdir(folder)) {}

  /**
   * What `file` reads of its folder's names; undefined when the folder cannot be listed (the file
   * itself may still be readable: the checks that need the names are then left out). A failed
   * listing is not kept: the next file of the folder tries again.
   */
  async siblingsOf(file: string): Promise<readonly string[] | undefined> {
    // A whole log reads none: its folder is not listed at all.
    if (!readsFolderNames(path.basename(file))) return [];
    const folder = path.dirname(file);
    let index = this.folders.get(folder);
    if (index === undefined) {
      index = this.list(folder).then(folderIndex, () => undefined);
      if (this.folders.size >= FOLDERS_KEPT) this.folders.delete(this.folders.keys().next().value!);
    } else this.folders.delete(folder);
    this.folders.set(folder, index);
    const found = await index;
    if (found === undefined) {
      if (this.folders.get(folder) === index) this.folders.delete(folder);
      return undefined;
    }
    return siblingsFor(path.basename(file), found);
  }
}
