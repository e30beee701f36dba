/**
 * The file access the dataset readers need, as an interface, so that the readers stay browser-safe.
 * `spiketrack/node` provides the `node:fs` implementation (`nodeDatasetSource`).
 */

/** Read-only access to a folder tree. Paths use `/`. */
export interface DatasetSource {
  /** The text of a file; rejects when it does not exist. */
  readText(path: string): Promise<string>;
  /** The entry names of a folder (not paths), in any order; rejects when it is not a folder. */
  list(dir: string): Promise<string[]>;
  /** Whether a file exists at `path`. */
  isFile(path: string): Promise<boolean>;
  /** Whether a folder exists at `path`. */
  isDir(path: string): Promise<boolean>;
}

/** Joins path segments with `/` (no normalization beyond removing duplicate separators at the joints). */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .join('/');
}
