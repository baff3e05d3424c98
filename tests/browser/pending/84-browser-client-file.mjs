// The browser client's file() in headless Chromium against the real server:
// a file of the project's public/ arrives over the websocket with its
// content, mime, length and lastModified (websocket.md §4.3).
//
// AH_TEST_URL=http://host:port runs against an already running server whose
// public/ already holds client-api.html and browser-api.txt.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { check, done, startServer, top } from '../../lib/lib.mjs';
import { launch, newPage } from '../browser.mjs';

const fileName = 'browser-api.txt';
const fileContent = 'a plain text file for the browser client test\n';
const base = process.env.AH_TEST_URL || (await startServer({
  files: {
    'public/client-api.html': readFileSync(path.join(top, 'tests/browser/client-api.html')),
    [`public/${fileName}`]: fileContent,
  },
})).url;
const browser = await launch();

try {
  const page = await newPage(browser);
  await page.goto(`${base}/client-api.html`);
  const results = await page.evaluate((o) => window.runFileChecks(o), { fileName, fileContent });
  for (const r of results) check(r.name, r.ok, r.ok ? undefined : { got: r.got, want: r.want });
  check('the page ran every step', results.length === 4, results.length);
  check('no errors in the page', page.problems.length === 0, page.problems);
} catch (e) {
  check(`browser client file test ran (${e.message.split('\n')[0]})`, false, e.stack.split('\n').slice(0, 8));
} finally {
  await browser.close();
}
await done();
