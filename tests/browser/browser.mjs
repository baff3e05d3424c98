// tests/browser/browser.mjs - headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core, and a TCP proxy that can cut every connection
// (a network loss as the browser sees it).
//
//   const browser = await launch();            // fresh profile per launch
//   const page = await newPage(browser);       // own context: own cookies
//   page.problems                              // console errors, page errors
//   const proxy = await startProxy(port);      // proxy.url, proxy.dropAll()
import net from 'node:net';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const top = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} not found: run sh tools/deps.sh browser`);
  }
  const { chromium } = await import('playwright-core');
  // launch() gives every browser a new temporary profile (user-data dir)
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.problems = [];
  page.consoleLog = [];
  page.on('console', (m) => {
    page.consoleLog.push(`${m.type()}: ${m.text()}`);
    // failed loads are reported below with their URL
    if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) page.problems.push(`console.error: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !/\/favicon\.ico$/.test(new URL(r.url()).pathname)) page.problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { page.problems.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.setDefaultTimeout(10000);
  return page;
}

export async function startProxy(targetPort, host = '127.0.0.1') {
  const pairs = new Set();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(targetPort, host);
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://${host}:${port}`,
    get accepted() { return accepted; },
    get open() { return pairs.size; },
    dropAll() {
      const n = pairs.size;
      for (const p of [...pairs]) {
        p.client.resetAndDestroy ? p.client.resetAndDestroy() : p.client.destroy();
        p.upstream.destroy();
      }
      return n;
    },
    close() {
      for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// The demo pages use /public/css/cosmo.css, /public/logo/actionhero.png ...,
// which belong to the project's other public files: their 404 is only an
// error when the project has the file.
export function withoutMissingAssets(problems) {
  return problems.filter((p) => {
    const m = /^HTTP 404 https?:\/\/[^/]+\/public\/([^?#]*)/.exec(p);
    return !m || existsSync(path.join(top, 'public', m[1]));
  });
}
