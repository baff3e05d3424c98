// The browser client's API in headless Chromium against the real server:
// tests/browser/client-api.html (copied into the project's public/) runs
// action, roomAdd, say, detailsView, roomView, file, roomLeave, quit,
// disconnect and a reconnect after the network drops (through a TCP proxy
// that this test cuts), and reports every value it checked.
// websocket.md §2-4 and §6.
//
// AH_TEST_URL=http://host:port runs against an already running server whose
// public/ already holds client-api.html and browser-api.txt.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { check, done, startServer, top } from '../lib/lib.mjs';
import { launch, newPage, startProxy } from '../browser/browser.mjs';

const fileName = 'browser-api.txt';
const fileContent = 'a plain text file for the browser client test\n';
let targetPort;
if (process.env.AH_TEST_URL) {
  targetPort = Number(new URL(process.env.AH_TEST_URL).port);
} else {
  const srv = await startServer({
    files: {
      'public/client-api.html': readFileSync(path.join(top, 'tests/browser/client-api.html')),
      [`public/${fileName}`]: fileContent,
    },
  });
  targetPort = srv.port;
}
const proxy = await startProxy(targetPort);
const browser = await launch();

try {
  const page = await newPage(browser);
  await page.exposeFunction('dropSockets', () => proxy.dropAll());
  await page.exposeFunction('proxyAccepted', () => proxy.accepted);
  await page.goto(`${proxy.url}/client-api.html`);
  let results = [];
  try {
    results = await page.evaluate(() => window.runClientApi());
    results = await page.evaluate((o) => window.runFileChecks(o), { fileName, fileContent });
  } catch (e) {
    // print what ran before the failure
    const text = await page.textContent('#out').catch(() => '');
    for (const line of text.split('\n').filter(Boolean)) console.log(line);
    throw e;
  }
  for (const r of results) check(r.name, r.ok, r.ok ? undefined : { got: r.got, want: r.want });
  check('the page ran every step', results.length >= 50, results.length);
  check('no errors in the page', page.problems.length === 0, page.problems);
} catch (e) {
  check(`browser client API test ran (${e.message.split('\n')[0]})`, false, e.stack.split('\n').slice(0, 8));
} finally {
  await browser.close();
  await proxy.close();
}
await done();
