// public/chat.html in headless Chromium: two pages (two browser contexts, so
// two sessions) join defaultRoom, see each other in the member list and
// exchange messages; page A goes through a TCP proxy that the test cuts, and
// comes back in the room with a new connection.  builtin.md §2, chat.md,
// websocket.md §6.
//
// AH_TEST_URL=http://host:port runs the pages against an already running
// server instead of starting one.
import { check, eq, done, startServer } from '../../lib/lib.mjs';
import { launch, newPage, startProxy, withoutMissingAssets } from '../browser.mjs';

const base = process.env.AH_TEST_URL || (await startServer()).url;
const proxy = await startProxy(Number(new URL(base).port));
const browser = await launch();

try {
  const [a, b] = [await newPage(browser), await newPage(browser)];

  async function open(page, origin = base) {
    await page.goto(`${origin}/chat.html`);
    await page.waitForSelector('body[data-ready="true"]');
    return page.evaluate(() => ({
      id: window.chat.client.id,
      fingerprint: window.chat.client.fingerprint,
      rooms: window.chat.client.rooms,
      state: window.chat.client.state,
      cookie: (document.cookie.match(/(?:^|;\s*)sessionID=([^;]*)/) || [])[1],
      shownId: document.getElementById('name').textContent,
      shownFp: document.getElementById('fingerprint').textContent,
      currentRoom: document.getElementById('currentRoom').textContent,
    }));
  }
  const members = (page) => page.$$eval('#members li', (lis) => lis.map((li) => li.textContent).sort());
  const messages = (page) => page.$$eval('#chatBox li', (lis) => lis.map((li) => ({
    kind: li.className,
    from: li.querySelector('.from') ? li.querySelector('.from').textContent : null,
    text: li.querySelector('.text') ? li.querySelector('.text').textContent : li.textContent,
    imgs: li.querySelectorAll('.text img').length,
  })));
  async function say(page, text) {
    await page.fill('#message', text);
    await page.click('#submitButton');
  }
  const waitTopMessage = (page, text) => page.waitForFunction(
    (t) => { const li = document.querySelector('#chatBox li.say .text'); return li && li.textContent === t; }, text);

  const A = await open(a, proxy.url);
  check('page A: connected with a UUID id', A.state === 'connected' && /^[0-9a-f-]{36}$/.test(A.id), A);
  eq('page A: joined defaultRoom', [A.rooms, A.currentRoom], [['defaultRoom'], 'defaultRoom']);
  eq('page A: shows its id and fingerprint', [A.shownId, A.shownFp], [A.id, A.fingerprint]);
  eq('page A: fingerprint is its sessionID cookie', A.fingerprint, A.cookie);

  const B = await open(b);
  check('page B: another session (own id and fingerprint)', B.id !== A.id && B.fingerprint !== A.fingerprint && B.fingerprint === B.cookie, B);
  await b.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
  eq('page B: member list shows both', await members(b), [A.id, B.id].sort());
  eq('page B: members count', await b.textContent('#membersCount'), '2');

  const welcome = (await messages(a)).at(-1);
  check('page A: the welcome message is shown', welcome && welcome.kind === 'welcome' && /Welcome to the actionhero api/.test(welcome.text), welcome);

  await say(a, 'hello from A');
  await waitTopMessage(b, 'hello from A');
  const mb = await messages(b);
  eq('page B: sees A\'s message, from A\'s id', [mb[0].text, mb[0].from], ['hello from A', A.id]);
  await waitTopMessage(a, 'hello from A');
  eq('page A: sees its own message', (await messages(a))[0].from, A.id);
  eq('page A: the input is cleared after sending', await a.inputValue('#message'), '');
  await a.waitForFunction(() => document.querySelectorAll('#members li').length === 2);
  eq('page A: member list shows both', await members(a), [A.id, B.id].sort());

  const evil = '<img src=x onerror="window.pwned=1"> & <b>bold</b>';
  await say(b, evil);
  await waitTopMessage(a, evil);
  const ma = await messages(a);
  eq('page A: newest first (B\'s reply above A\'s message)', ma.filter((m) => m.kind === 'say').map((m) => m.text), [evil, 'hello from A']);
  eq('messages are text, never markup', [ma[0].imgs, await a.evaluate(() => window.pwned === undefined)], [0, true]);
  eq('page A: the message is from B', ma[0].from, B.id);

  // an empty message is not sent
  await a.fill('#message', '');
  await a.click('#submitButton');
  await say(a, 'last one');
  await waitTopMessage(b, 'last one');
  eq('page B: the empty submit sent nothing', (await messages(b)).filter((m) => m.kind === 'say').map((m) => m.text), ['last one', evil, 'hello from A']);

  // network loss on A's side: the client reconnects, re-joins defaultRoom
  // and the page shows the new id
  const dropped = proxy.dropAll();
  check('the proxy cut A\'s connections', dropped >= 1, dropped);
  await a.waitForFunction((old) => window.chat.client.state === 'connected' && window.chat.client.id !== old
    && document.getElementById('name').textContent === window.chat.client.id, A.id);
  const A2 = await a.evaluate(() => ({ id: window.chat.client.id, rooms: window.chat.client.rooms }));
  eq('page A after the drop: back in defaultRoom with a new id', A2.rooms, ['defaultRoom']);
  check('page A tells the user it reconnected', (await messages(a)).some((m) => m.kind === 'notice' && /reconnected/.test(m.text)));
  await say(a, 'A is back');
  await waitTopMessage(b, 'A is back');
  eq('page B hears A again, from A\'s new id', (await messages(b))[0].from, A2.id);
  await b.evaluate(() => window.chat.refreshMembers());
  await b.waitForFunction((want) => [...document.querySelectorAll('#members li')].map((li) => li.textContent).sort().join() === want,
    [A2.id, B.id].sort().join());
  eq('page B: members are A\'s new connection and B', await members(b), [A2.id, B.id].sort());

  eq('page A: no errors', withoutMissingAssets(a.problems), []);
  eq('page B: no errors', withoutMissingAssets(b.problems), []);
} catch (e) {
  check(`browser chat test ran (${e.message.split('\n')[0]})`, false, e.stack.split('\n').slice(0, 8));
} finally {
  await browser.close();
  await proxy.close();
}
await done();
