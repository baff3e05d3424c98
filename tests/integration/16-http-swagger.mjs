// The swagger action documents the route table (builtin.md §1.6).
import { startServer, check, eq, done } from '../lib/lib.mjs';

const srv = await startServer({
  env: { AUTOMATIC_ROUTES: 'get' },
  args: ['--set=routes.post=[{"path":"/users/:id","action":"validationTest"}]'],
});
const res = await fetch(`${srv.url}/api/swagger`);
eq('swagger answers 200', res.status, 200);
const doc = await res.json();
eq('swagger 2.0', doc.swagger, '2.0');
eq('basePath', doc.basePath, '/api/');
check('config routes are documented', doc.paths['/status'] && doc.paths['/status'].get, doc.paths['/status']);
check('automatic routes are documented', doc.paths['/randomNumber'] && doc.paths['/randomNumber'].get);
const sleep = doc.paths['/sleepTest'] && doc.paths['/sleepTest'].get;
eq('tags are the action name', sleep && sleep.tags, ['sleepTest']);
eq('summary is the description', sleep && sleep.summary, 'I will sleep and then return');
eq('inputs become parameters with their default', sleep && sleep.parameters,
  [{ in: 'query', name: 'sleepDuration', type: 'string', required: true, default: 1000 }]);
const user = doc.paths['/users/{id}'] && doc.paths['/users/{id}'].post;
check('path variables become {name}', Boolean(user), Object.keys(doc.paths));
eq('responses are the fixed set', Object.keys(sleep.responses), ['200', '400', '404', '422', '500']);
await done();
