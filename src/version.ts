// loadgate's version: written from package.json by `npm version` (scripts/write-version.ts).
export const VERSION = '0.1.0';
