// tests/browser/load-client.mjs - load public/javascript/ActionheroWebsocketClient.js
// into Node the way a CommonJS consumer would, whatever the surrounding
// package.json says about module types.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const clientPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  '../../public/javascript/ActionheroWebsocketClient.js');

export function loadClient() {
  const src = readFileSync(clientPath, 'utf8');
  const module = { exports: {} };
  // eslint-disable-next-line no-new-func
  new Function('module', 'exports', src)(module, module.exports);
  return module.exports.ActionheroWebsocketClient;
}
