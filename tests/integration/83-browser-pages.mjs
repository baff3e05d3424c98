// The other websocket demo pages in headless Chromium (builtin.md §2):
// linkedSession.html (web and websocket share the sessionID fingerprint) and
// websocketLoadTest.html (N clients x M actions, all good).
//
// AH_TEST_URL=http://host:port runs against an already running server.
import { check, eq, done, startServer } from '../lib/lib.mjs';
import { launch, newPage, withoutMissingAssets } from '../browser/browser.mjs';

const base = process.env.AH_TEST_URL || (await startServer()).url;
const browser = await launch();

try {
  // ---- linkedSession.html
  const page = await newPage(browser);
  await page.goto(`${base}/linkedSession.html`);
  await page.waitForFunction(() => window.linkedSession && window.linkedSession.done);
  const ls = await page.evaluate(() => ({
    ok: window.linkedSession.ok,
    cookie: window.linkedSession.cookie,
    web: window.linkedSession.web && window.linkedSession.web.fingerprint,
    ws: window.linkedSession.client && window.linkedSession.client.fingerprint,
    result: document.getElementById('result').textContent,
    cookieNow: (document.cookie.match(/(?:^|;\s*)sessionID=([^;]*)/) || [])[1],
  }));
  check('linkedSession: a 40-hex sessionID cookie', /^[0-9a-f]{40}$/.test(ls.cookie || ''), ls);
  eq('linkedSession: cookie = web fingerprint = websocket fingerprint', [ls.web, ls.ws], [ls.cookie, ls.cookie]);
  eq('linkedSession: the page reports the match', [ls.ok, /^match/.test(ls.result)], [true, true]);
  // the page cleared the cookie of the first visit, so a reload starts a new session
  await page.reload();
  await page.waitForFunction(() => window.linkedSession && window.linkedSession.done);
  const again = await page.evaluate(() => ({ ok: window.linkedSession.ok, cookie: window.linkedSession.cookie }));
  check('linkedSession: reload clears the cookie and matches on a new session', again.ok === true && again.cookie !== ls.cookie, again);
  eq('linkedSession: no errors', withoutMissingAssets(page.problems), []);

  // ---- websocketLoadTest.html
  const lt = await newPage(browser);
  await lt.goto(`${base}/websocketLoadTest.html`);
  await lt.fill('#numClients', '8');
  await lt.fill('#numRequests', '6');
  await lt.fill('#sleep', '0');
  await lt.fill('#params', '{"key": "key", "value": "value"}');
  await lt.click('#go');
  await lt.waitForSelector('body[data-state="complete"]');
  const report = await lt.evaluate(() => {
    const t = (id) => document.getElementById(id).textContent;
    return {
      state: t('report.state'), clients: t('report.numClients'), total: t('report.totalRequests'),
      good: t('report.totalGood'), bad: t('report.totalBad'), percent: t('report.percentGood'),
      boxes: [...document.querySelectorAll('#boxes .label')].map((e) => e.className),
      open: window.loadTest.workers.filter((w) => w.client.state !== 'disconnected').length,
    };
  });
  eq('load test: 8 clients x 6 randomNumber, all good',
    [report.state, report.clients, report.total, report.good, report.bad, report.percent],
    ['complete', '8', '48', '48', '0', '100']);
  check('load test: every client box is green', report.boxes.length === 8 && report.boxes.every((c) => /state-ok/.test(c)), report.boxes);
  eq('load test: every client disconnected at the end', report.open, 0);
  // a failing action counts as bad
  await lt.fill('#numClients', '2');
  await lt.fill('#numRequests', '3');
  await lt.fill('#action', 'noSuchAction');
  await lt.click('#go');
  await lt.waitForSelector('body[data-state="complete"]');
  const bad = await lt.evaluate(() => [document.getElementById('report.totalBad').textContent, document.getElementById('report.percentGood').textContent]);
  eq('load test: an unknown action counts as bad', bad, ['6', '0']);
  await lt.fill('#params', '[1]');
  await lt.click('#go');
  eq('load test: params must be a JSON object', await lt.textContent('#formError'), 'params must be a JSON object');
  eq('load test: no errors', withoutMissingAssets(lt.problems), []);
} catch (e) {
  check(`browser pages test ran (${e.message.split('\n')[0]})`, false, e.stack.split('\n').slice(0, 8));
} finally {
  await browser.close();
}
await done();
