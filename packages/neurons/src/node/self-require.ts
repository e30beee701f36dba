import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** This module's URL (ESM), or its file's (CommonJS build). */
function selfUrl(): string {
  if (typeof __filename === 'string') return pathToFileURL(__filename).href;
  return import.meta.url;
}

/** A `require` that resolves packages from where this package is installed. */
export function selfRequire(): NodeJS.Require {
  return createRequire(selfUrl());
}
